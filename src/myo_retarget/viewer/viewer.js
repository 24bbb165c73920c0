// The myo-retarget motion viewer: plain JavaScript and WebGL, no libraries, no network.
// Draws the payload written by myo_retarget._viewer (the character, the markers and the
// joint-angle curves): the standalone page's, inlined in its <script id="motion"> element, or one
// given later to window.startViewer (the MCP App, once the host delivers the tool result).
// window.viewer drives it from outside.
"use strict";

(function () {
  const PAYLOAD_VERSION = 1;
  // Residual colour scale of the measured markers, mm: green up to GOOD, red from BAD.
  const GOOD_MM = 10;
  const BAD_MM = 30;
  const MISSING = -32768;
  const FITTED_COLOUR = [0.92, 0.92, 0.92];
  const FITTED_SCALE = 0.7;
  const FLOOR_HALF_M = 4;
  const FLOOR_STEP_M = 0.5;
  const CURVE_COLOURS = ["#e06c5a", "#5a8de0", "#e0b05a", "#5ac0e0", "#b05ae0", "#5ae08d"];
  const LIGHT = normalize([0.4, -0.6, 0.9]);

  const DTYPES = { float32: Float32Array, int16: Int16Array, uint32: Uint32Array };

  function decode(a) {
    const bin = atob(a.b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new DTYPES[a.dtype](bytes.buffer);
  }

  function normalize(v) {
    const n = Math.hypot(v[0], v[1], v[2]) || 1;
    return [v[0] / n, v[1] / n, v[2] / n];
  }

  function cross(a, b) {
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  }

  // 4x4 matrices, column-major as WebGL takes them.
  function multiply(a, b) {
    const out = new Float32Array(16);
    for (let c = 0; c < 4; c++) {
      for (let r = 0; r < 4; r++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
        out[c * 4 + r] = s;
      }
    }
    return out;
  }

  function perspective(fovy, aspect, near, far) {
    const f = 1 / Math.tan(fovy / 2);
    const m = new Float32Array(16);
    m[0] = f / aspect;
    m[5] = f;
    m[10] = (far + near) / (near - far);
    m[11] = -1;
    m[14] = (2 * far * near) / (near - far);
    return m;
  }

  function lookAt(eye, target, up) {
    const z = normalize([eye[0] - target[0], eye[1] - target[1], eye[2] - target[2]]);
    const x = normalize(cross(up, z));
    const y = cross(z, x);
    const m = new Float32Array(16);
    m.set([x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0]);
    m[12] = -(x[0] * eye[0] + x[1] * eye[1] + x[2] * eye[2]);
    m[13] = -(y[0] * eye[0] + y[1] * eye[1] + y[2] * eye[2]);
    m[14] = -(z[0] * eye[0] + z[1] * eye[1] + z[2] * eye[2]);
    m[15] = 1;
    return m;
  }

  // Pose matrix of a unit w-x-y-z quaternion, a translation and a uniform scale.
  function pose(w, x, y, z, tx, ty, tz, s) {
    const m = new Float32Array(16);
    m[0] = s * (1 - 2 * (y * y + z * z));
    m[1] = s * 2 * (x * y + w * z);
    m[2] = s * 2 * (x * z - w * y);
    m[4] = s * 2 * (x * y - w * z);
    m[5] = s * (1 - 2 * (x * x + z * z));
    m[6] = s * 2 * (y * z + w * x);
    m[8] = s * 2 * (x * z + w * y);
    m[9] = s * 2 * (y * z - w * x);
    m[10] = s * (1 - 2 * (x * x + y * y));
    m[12] = tx;
    m[13] = ty;
    m[14] = tz;
    m[15] = 1;
    return m;
  }

  function residualColour(mm) {
    const t = Math.min(Math.max((mm - GOOD_MM) / (BAD_MM - GOOD_MM), 0), 1);
    // green -> yellow -> red
    return t < 0.5 ? [0.2 + 1.6 * t, 0.85, 0.2] : [1.0, 0.85 - 1.5 * (t - 0.5), 0.2];
  }

  const VERTEX_SHADER = `
    attribute vec3 aPos;
    attribute vec3 aNormal;
    uniform mat4 uViewProj;
    uniform mat4 uModel;
    varying vec3 vNormal;
    void main() {
      vNormal = mat3(uModel) * aNormal;
      gl_Position = uViewProj * uModel * vec4(aPos, 1.0);
    }`;
  const FRAGMENT_SHADER = `
    precision mediump float;
    uniform vec3 uColour;
    uniform vec3 uLight;
    uniform float uLit;
    varying vec3 vNormal;
    void main() {
      float diffuse = max(dot(normalize(vNormal), uLight), 0.0);
      vec3 shaded = uColour * (0.3 + 0.7 * diffuse);
      gl_FragColor = vec4(mix(uColour, shaded, uLit), 1.0);
    }`;

  function compile(gl, kind, source) {
    const shader = gl.createShader(kind);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
      throw new Error("viewer shader: " + gl.getShaderInfoLog(shader));
    }
    return shader;
  }

  class Renderer {
    constructor(canvas, data) {
      const options = { antialias: true, preserveDrawingBuffer: true };
      const gl = canvas.getContext("webgl2", options) || canvas.getContext("webgl", options);
      if (!gl) throw new Error("WebGL unavailable");
      this.gl = gl;
      this.kind = typeof WebGL2RenderingContext !== "undefined" &&
        gl instanceof WebGL2RenderingContext ? "webgl2" : "webgl";
      const program = gl.createProgram();
      gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX_SHADER));
      gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT_SHADER));
      gl.linkProgram(program);
      if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
        throw new Error("viewer program: " + gl.getProgramInfoLog(program));
      }
      gl.useProgram(program);
      this.aPos = gl.getAttribLocation(program, "aPos");
      this.aNormal = gl.getAttribLocation(program, "aNormal");
      this.u = {};
      for (const name of ["uViewProj", "uModel", "uColour", "uLight", "uLit"]) {
        this.u[name] = gl.getUniformLocation(program, name);
      }
      gl.uniform3fv(this.u.uLight, LIGHT);
      gl.enable(gl.DEPTH_TEST);
      gl.clearColor(0.114, 0.125, 0.141, 1);
      this.body = this.upload(data.mesh);
      this.marker = this.upload(data.marker_mesh);
      this.floor = this.floorLines();
    }

    upload(mesh) {
      const gl = this.gl;
      const vertices = decode(mesh.vertices);
      let indices = decode(mesh.indices);
      let type = gl.UNSIGNED_INT;
      // WebGL 1 draws 32-bit indices only with an extension: small meshes need none.
      if (vertices.length / 3 <= 65536) {
        indices = Uint16Array.from(indices);
        type = gl.UNSIGNED_SHORT;
      } else if (this.kind === "webgl" && !gl.getExtension("OES_element_index_uint")) {
        throw new Error("this WebGL cannot draw meshes of more than 65536 vertices");
      }
      return {
        pos: this.buffer(gl.ARRAY_BUFFER, vertices),
        normal: this.buffer(gl.ARRAY_BUFFER, decode(mesh.normals)),
        index: this.buffer(gl.ELEMENT_ARRAY_BUFFER, indices),
        type: type,
        bytes: indices.BYTES_PER_ELEMENT,
        count: indices.length,
      };
    }

    buffer(target, array) {
      const gl = this.gl;
      const b = gl.createBuffer();
      gl.bindBuffer(target, b);
      gl.bufferData(target, array, gl.STATIC_DRAW);
      return b;
    }

    floorLines() {
      const pts = [];
      for (let v = -FLOOR_HALF_M; v <= FLOOR_HALF_M + 1e-9; v += FLOOR_STEP_M) {
        pts.push(v, -FLOOR_HALF_M, 0, v, FLOOR_HALF_M, 0, -FLOOR_HALF_M, v, 0, FLOOR_HALF_M, v, 0);
      }
      const normals = new Float32Array(pts.length);
      for (let i = 2; i < normals.length; i += 3) normals[i] = 1;
      return {
        pos: this.buffer(this.gl.ARRAY_BUFFER, new Float32Array(pts)),
        normal: this.buffer(this.gl.ARRAY_BUFFER, normals),
        count: pts.length / 3,
      };
    }

    bind(mesh) {
      const gl = this.gl;
      gl.bindBuffer(gl.ARRAY_BUFFER, mesh.pos);
      gl.enableVertexAttribArray(this.aPos);
      gl.vertexAttribPointer(this.aPos, 3, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, mesh.normal);
      gl.enableVertexAttribArray(this.aNormal);
      gl.vertexAttribPointer(this.aNormal, 3, gl.FLOAT, false, 0, 0);
      if (mesh.index) gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, mesh.index);
    }

    draw(viewProj, floorAt, bodies, markers) {
      const gl = this.gl;
      const canvas = gl.canvas;
      gl.viewport(0, 0, canvas.width, canvas.height);
      gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
      gl.uniformMatrix4fv(this.u.uViewProj, false, viewProj);
      // The floor follows the character in whole grid steps, so it seems to stay put.
      this.bind(this.floor);
      gl.uniform1f(this.u.uLit, 0);
      gl.uniform3fv(this.u.uColour, [0.3, 0.33, 0.36]);
      gl.uniformMatrix4fv(this.u.uModel, false, pose(1, 0, 0, 0, floorAt[0], floorAt[1], 0, 1));
      gl.drawArrays(gl.LINES, 0, this.floor.count);
      gl.uniform1f(this.u.uLit, 1);
      this.bind(this.body);
      for (const b of bodies) {
        if (b.count === 0) continue;
        gl.uniform3fv(this.u.uColour, b.colour);
        gl.uniformMatrix4fv(this.u.uModel, false, b.model);
        gl.drawElements(gl.TRIANGLES, b.count, this.body.type, b.start * this.body.bytes);
      }
      this.bind(this.marker);
      for (const m of markers) {
        gl.uniform3fv(this.u.uColour, m.colour);
        gl.uniformMatrix4fv(this.u.uModel, false, m.model);
        gl.drawElements(gl.TRIANGLES, this.marker.count, this.marker.type, 0);
      }
    }
  }

  function start(data) {
    if (data.version !== PAYLOAD_VERSION) {
      throw new Error("this viewer reads payload version " + PAYLOAD_VERSION +
        ", not " + data.version + ": write the page again with this myo-retarget");
    }
    const time = decode(data.time_s);
    const nFrames = time.length;
    const nBodies = data.bodies.length;
    const positions = decode(data.body_positions);
    const quats = decode(data.body_quats);
    const observed = decode(data.markers.observed);
    const markerBody = data.markers.body;
    const markerLocal = decode(data.markers.local);
    const nMarkers = data.markers.names.length;
    const curves = decode(data.curves.degrees);
    const joints = data.curves.joints;

    const scene = document.getElementById("scene");
    const plot = document.getElementById("curves");
    const scrub = document.getElementById("scrub");
    const playButton = document.getElementById("play");
    const speed = document.getElementById("speed");
    const showMarkers = document.getElementById("markers");
    const timeLabel = document.getElementById("time");
    scrub.max = String(Math.max(nFrames - 1, 0));
    document.getElementById("info").textContent = nFrames + " frames at " +
      data.fps.toFixed(1) + " Hz (recorded at " + data.source_fps + " Hz), " +
      nMarkers + " markers";
    document.getElementById("legend").textContent = nMarkers
      ? "measured markers: green \u2264 " + GOOD_MM + " mm from the model's (white), red \u2265 " +
        BAD_MM + " mm"
      : "";

    let renderer = null;
    try {
      renderer = new Renderer(scene, data);
    } catch (err) {
      document.getElementById("no-webgl").hidden = false;
      scene.hidden = true;
    }

    const state = { frame: 0, clock: 0, playing: false, last: null,
      azimuth: -Math.PI / 3, elevation: 0.25, distance: 3.5, dirty: true };

    function at(array, f, i, width) {
      return array.subarray((f * (array.length / nFrames / width) + i) * width,
        (f * (array.length / nFrames / width) + i + 1) * width);
    }

    function markerModel(array, f, m, scale) {
      const p = at(array, f, m, 3);
      if (p[0] === MISSING) return null;
      return pose(1, 0, 0, 0, p[0] / 1000, p[1] / 1000, p[2] / 1000, scale);
    }

    function drawScene() {
      if (!renderer) return;
      const f = state.frame;
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(scene.clientWidth * dpr));
      const h = Math.max(1, Math.round(scene.clientHeight * dpr));
      if (scene.width !== w || scene.height !== h) {
        scene.width = w;
        scene.height = h;
      }
      const root = at(positions, f, 0, 3);
      const target = [root[0] / 1000, root[1] / 1000, 0.9];
      const ce = Math.cos(state.elevation);
      const eye = [
        target[0] + state.distance * ce * Math.cos(state.azimuth),
        target[1] + state.distance * ce * Math.sin(state.azimuth),
        target[2] + state.distance * Math.sin(state.elevation),
      ];
      const viewProj = multiply(perspective(0.8, w / h, 0.05, 100), lookAt(eye, target, [0, 0, 1]));
      const bodies = [];
      for (let b = 0; b < nBodies; b++) {
        const p = at(positions, f, b, 3);
        const q = at(quats, f, b, 4);
        const n = Math.hypot(q[0], q[1], q[2], q[3]) || 1;
        const [start, count] = data.mesh.ranges[b];
        bodies.push({
          start: start, count: count, colour: data.bodies[b].colour,
          model: pose(q[0] / n, q[1] / n, q[2] / n, q[3] / n,
            p[0] / 1000, p[1] / 1000, p[2] / 1000, 1),
        });
      }
      const markers = [];
      if (showMarkers.checked) {
        for (let m = 0; m < nMarkers; m++) {
          // The model's marker rides on its body: that body's pose places it.
          const body = bodies[markerBody[m]].model;
          const l = markerLocal.subarray(m * 3, m * 3 + 3);
          const fit = [0, 1, 2].map((i) => body[i] * l[0] + body[4 + i] * l[1] +
            body[8 + i] * l[2] + body[12 + i]);
          markers.push({ colour: FITTED_COLOUR,
            model: pose(1, 0, 0, 0, fit[0], fit[1], fit[2], FITTED_SCALE) });
          const seen = markerModel(observed, f, m, 1);
          if (seen) {
            const a = at(observed, f, m, 3);
            const mm = Math.hypot(a[0] - fit[0] * 1000, a[1] - fit[1] * 1000,
              a[2] - fit[2] * 1000);
            markers.push({ colour: residualColour(mm), model: seen });
          }
        }
      }
      const step = FLOOR_STEP_M;
      renderer.draw(viewProj, [Math.round(target[0] / step) * step,
        Math.round(target[1] / step) * step], bodies, markers);
    }

    function drawCurves() {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(plot.clientWidth * dpr));
      const h = Math.max(1, Math.round(plot.clientHeight * dpr));
      if (plot.width !== w || plot.height !== h) {
        plot.width = w;
        plot.height = h;
      }
      const ctx = plot.getContext("2d");
      ctx.clearRect(0, 0, w, h);
      ctx.font = 11 * dpr + "px system-ui, sans-serif";
      const left = 44 * dpr;
      const right = w - 8 * dpr;
      const top = 18 * dpr;
      const bottom = h - 16 * dpr;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of curves) {
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      ctx.fillStyle = "#9aa0a6";
      if (!joints.length || lo > hi) {
        ctx.fillText("no joint-angle curves: the plotted joints have no data", left, top + 12);
        return;
      }
      if (hi - lo < 1) {
        lo -= 0.5;
        hi += 0.5;
      }
      const duration = Math.max(time[nFrames - 1] - time[0], 1e-9);
      const x = (t) => left + ((t - time[0]) / duration) * (right - left);
      const y = (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
      ctx.fillText(hi.toFixed(0) + "\u00b0", 4 * dpr, top + 4 * dpr);
      ctx.fillText(lo.toFixed(0) + "\u00b0", 4 * dpr, bottom);
      ctx.lineWidth = 1.5 * dpr;
      const k = joints.length;
      joints.forEach((name, j) => {
        ctx.strokeStyle = CURVE_COLOURS[j % CURVE_COLOURS.length];
        ctx.beginPath();
        let pen = false;
        for (let f = 0; f < nFrames; f++) {
          const v = curves[f * k + j];
          // A NaN (no data in that frame) lifts the pen: a gap, not a line across it.
          if (!Number.isFinite(v)) {
            pen = false;
            continue;
          }
          if (pen) ctx.lineTo(x(time[f]), y(v));
          else ctx.moveTo(x(time[f]), y(v));
          pen = true;
        }
        ctx.stroke();
        ctx.fillStyle = ctx.strokeStyle;
        ctx.fillText(name, left + j * 100 * dpr, 12 * dpr);
      });
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1 * dpr;
      ctx.beginPath();
      ctx.moveTo(x(time[state.frame]), top);
      ctx.lineTo(x(time[state.frame]), bottom);
      ctx.stroke();
    }

    function showTime() {
      scrub.value = String(state.frame);
      timeLabel.textContent = (nFrames ? time[state.frame] : 0).toFixed(2) + " s";
    }

    function redraw() {
      state.dirty = false;
      showTime();
      drawScene();
      drawCurves();
    }

    function setFrame(f) {
      state.frame = Math.min(Math.max(Math.round(f), 0), Math.max(nFrames - 1, 0));
      state.clock = state.frame / data.fps;
      state.dirty = true;
      // The label follows the slider at once; drawing waits for the next animation frame.
      showTime();
    }

    function setPlaying(on) {
      state.playing = on && nFrames > 1;
      state.last = null;
      playButton.textContent = state.playing ? "Pause" : "Play";
    }

    function tick(now) {
      if (state.playing) {
        if (state.last !== null) {
          const duration = nFrames / data.fps;
          state.clock = (state.clock + ((now - state.last) / 1000) * Number(speed.value)) %
            duration;
          const f = Math.floor(state.clock * data.fps);
          if (f !== state.frame) {
            state.frame = f;
            state.dirty = true;
          }
        }
        state.last = now;
      }
      if (state.dirty) redraw();
      requestAnimationFrame(tick);
    }

    playButton.addEventListener("click", () => setPlaying(!state.playing));
    scrub.addEventListener("input", () => {
      setPlaying(false);
      setFrame(Number(scrub.value));
    });
    showMarkers.addEventListener("change", () => { state.dirty = true; });
    window.addEventListener("resize", () => { state.dirty = true; });
    let drag = null;
    scene.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY };
      scene.setPointerCapture(e.pointerId);
    });
    scene.addEventListener("pointermove", (e) => {
      if (!drag) return;
      state.azimuth -= (e.clientX - drag.x) * 0.01;
      state.elevation = Math.min(1.5, Math.max(-0.2, state.elevation + (e.clientY - drag.y) * 0.01));
      drag = { x: e.clientX, y: e.clientY };
      state.dirty = true;
    });
    scene.addEventListener("pointerup", () => { drag = null; });
    scene.addEventListener("wheel", (e) => {
      e.preventDefault();
      state.distance = Math.min(30, Math.max(0.5, state.distance * Math.exp(e.deltaY * 0.001)));
      state.dirty = true;
    }, { passive: false });

    window.viewer = {
      frames: nFrames,
      fps: data.fps,
      renderer: renderer ? renderer.kind : null,
      /** Show the frame at time t (s from the first frame) and draw it now. */
      seek(t) {
        setPlaying(false);
        setFrame(t * data.fps);
        redraw();
        return state.frame;
      },
      frame() { return state.frame; },
      play() { setPlaying(true); },
      pause() { setPlaying(false); },
    };
    redraw();
    requestAnimationFrame(tick);
  }

  window.startViewer = start;
  const inlined = document.getElementById("motion");
  if (inlined && inlined.textContent.trim()) start(JSON.parse(inlined.textContent));
})();
