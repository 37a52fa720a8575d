// migscope live dashboard: state pushed over a WebSocket by `migscope serve` (src/service/http.ts).
// Each message after the first snapshot carries the event and the migration's whole view, so
// the page keeps no analysis logic of its own. Timestamps are picoseconds as decimal strings.
'use strict';

const COLORS = {
  authentication: '#8e24aa', initialization: '#5e35b1', 'remote-connect': '#3949ab', preparation: '#1e88e5',
  transfer: '#00897b', finish: '#7cb342', cleanup: '#f9a825', 'post-migration': '#ef6c00',
};
const RECENT_SHOWN = 12;
const PS_PER_MS = 1000000000n;

const state = { migrations: new Map(), now: undefined, nowAtWall: 0, paced: false, speed: 1 };

function ps(s) { return s === undefined || s === null ? undefined : BigInt(s); }
function ms(d) { return Number(d / 1000n) / 1e6; } // ps → ms, µs precision
function seconds(d) { return (ms(d) / 1000).toFixed(ms(d) < 1000 ? 4 : 2); }
function human(bytes) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes, i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'style') e.style.cssText = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

/** Wire time now: the server's clock, advanced by the wall time since (paced sources only). */
function wireNow() {
  if (state.now === undefined) return undefined;
  if (!state.paced) return state.now;
  const elapsedMs = (performance.now() - state.nowAtWall) * state.speed;
  return state.now + BigInt(Math.round(elapsedMs * 1000)) * 1000000n;
}

function setNow(s) {
  const n = ps(s);
  if (n !== undefined && (state.now === undefined || n >= state.now)) { state.now = n; state.nowAtWall = performance.now(); }
}

function timeline(m, now) {
  const bar = el('div', { className: 'timeline' });
  if (m.phases.length === 0) return bar;
  const t0 = ps(m.phases[0].start);
  let t1 = t0;
  for (const p of m.phases) {
    const end = p.end !== undefined ? ps(p.end) : now;
    if (end !== undefined && end > t1) t1 = end;
  }
  const span = t1 > t0 ? t1 - t0 : 1n;
  const pct = (t) => Number(((t - t0) * 100000n) / span) / 1000;
  for (const p of m.phases) {
    const start = ps(p.start);
    const running = p.end === undefined;
    const end = running ? (now !== undefined && now > start ? now : start) : ps(p.end);
    const left = pct(start), width = Math.max(0.2, pct(end) - left);
    const label = `${p.phase} ${seconds(end - start)} s${p.uncertain ? ' (bound)' : ''}`;
    bar.append(el('div', {
      className: `phase${p.uncertain ? ' uncertain' : ''}`, title: label + (p.uncertain ? `: ${p.uncertain}` : ''),
      'data-phase': p.phase, 'data-state': running ? 'running' : 'done',
      style: `left:${left}%;width:${width}%;background:${COLORS[p.phase] || '#777'}`,
    }, width > 8 ? label : ''));
  }
  if (m.switchover) bar.append(el('div', { className: 'marker', title: 'switch-over: VM paused', style: `left:${pct(ps(m.switchover.ts))}%` }));
  return bar;
}

function passes(m) {
  const rows = m.passes.map((p) => ({ it: String(p.iteration), bytes: p.bytes, dur: ps(p.duration), state: 'done' }));
  const lastDone = m.passes.length ? m.passes[m.passes.length - 1].iteration : 0;
  if (m.state === 'running' && m.pass !== undefined && m.pass > lastDone && !m.switchover) {
    const start = lastDone ? ps(m.passes[m.passes.length - 1].start) + ps(m.passes[m.passes.length - 1].duration) : undefined;
    rows.push({ it: String(m.pass), bytes: undefined, dur: undefined, state: 'running', start });
  }
  if (m.stream && m.stream.ramStopCopyBytes !== undefined) {
    rows.push({ it: 'stop-and-copy', bytes: m.stream.ramStopCopyBytes, dur: m.stream.pause ? ps(m.stream.pause.end) - ps(m.stream.pause.start) : undefined, state: 'stop-copy' });
  }
  if (rows.length === 0) return undefined;
  const max = Math.max(1, ...rows.map((r) => r.bytes || 0));
  return el('table', { className: 'passes' },
    el('tr', {}, el('th', {}, 'pass'), el('th', {}, 'size'), el('th', {}, ''), el('th', {}, 'duration'), el('th', {}, 'rate')),
    ...rows.map((r) => el('tr', { 'data-pass': r.it, 'data-state': r.state },
      el('td', {}, r.it), el('td', {}, r.bytes !== undefined ? human(r.bytes) : 'running'),
      el('td', {}, el('span', { className: 'bar', style: `width:${Math.round(((r.bytes || 0) / max) * 160)}px` })),
      el('td', {}, r.dur !== undefined ? `${seconds(r.dur)} s` : ''),
      el('td', {}, r.dur !== undefined && r.dur > 0n && r.bytes !== undefined ? `${human(r.bytes / (ms(r.dur) / 1000))}/s` : ''))));
}

function part(name, p) {
  if (!p) return undefined;
  const d = ps(p.end) - ps(p.start);
  return el('span', { className: `part ${name}` }, `${name} ${seconds(d)} s [${seconds(ps(p.min))}–${seconds(ps(p.max))}]`);
}

function card(m, now) {
  const badges = [el('span', { className: `badge ${m.state === 'running' ? 'running' : m.outcome}` }, m.state === 'running' ? (m.phase || 'running') : m.outcome)];
  if (m.stalled) badges.push(el('span', { className: 'badge alert stalled' }, `stalled in ${m.stalled.phase}`));
  if (m.convergence && m.convergence.verdict === 'will-not-converge') badges.push(el('span', { className: 'badge alert convergence' }, 'will not converge'));
  const facts = [];
  if (m.bytes !== undefined) facts.push(el('span', { className: 'bytes' }, 'sent ', el('b', {}, human(m.bytes)), m.state === 'running' && m.rate !== undefined ? ` at ${human(m.rate)}/s` : ''));
  if (m.pass !== undefined) facts.push(el('span', {}, 'pass ', el('b', {}, String(m.pass))));
  if (m.convergence) {
    const c = m.convergence;
    facts.push(el('span', { className: 'convergence' }, `dirty ${human(c.dirtyRate)}/s vs wire ${human(c.wireRate)}/s`,
      c.eta !== undefined ? ` · switch-over in ~${seconds(ps(c.eta))} s` : ''));
  }
  if (m.switchover) facts.push(el('span', { className: 'switchover' }, `switch-over after ${m.switchover.iterations} passes`));
  if (m.downtime) {
    const d = m.downtime;
    facts.push(el('span', { className: 'downtime' }, 'downtime ', el('b', {}, `${seconds(ps(d.duration))} s`), ` (${d.lost} pings lost)`));
    for (const [n, p] of [['pause', d.pause], ['resume', d.resume], ['network', d.reconvergence]]) { const s = part(n, p); if (s) facts.push(s); }
  } else if (m.stream && m.stream.pause) {
    const s = part('pause', m.stream.pause);
    if (s) facts.push(s);
  }
  if (m.total !== undefined) facts.push(el('span', { className: 'total' }, 'total ', el('b', {}, `${seconds(ps(m.total))} s`)));
  return el('div', { className: 'migration', 'data-id': m.id, 'data-state': m.state },
    el('div', { className: 'title' }, el('span', { className: 'id' }, m.id),
      el('span', { className: 'hosts' }, `${m.scenario} ${m.source} → ${m.destination}${m.domain ? ` · ${m.domain}` : ''}`), ...badges),
    timeline(m, now),
    el('div', { className: 'facts' }, ...facts),
    passes(m),
    m.reason ? el('div', { className: 'reason' }, m.reason) : undefined);
}

function legend() {
  document.getElementById('legend').replaceChildren(...Object.entries(COLORS).map(([p, c]) => el('span', { style: `--c:${c}` }, p)));
}

function render() {
  const now = wireNow();
  const all = [...state.migrations.values()];
  const running = all.filter((m) => m.state === 'running');
  const recent = all.filter((m) => m.state !== 'running')
    .sort((a, b) => (ps(b.endedAt) > ps(a.endedAt) ? 1 : -1)).slice(0, RECENT_SHOWN);
  const r = document.getElementById('running');
  r.replaceChildren(...(running.length ? running.map((m) => card(m, now)) : [el('p', { className: 'empty' }, 'no migration running')]));
  const d = document.getElementById('recent');
  d.replaceChildren(...(recent.length ? recent.map((m) => card(m, now)) : [el('p', { className: 'empty' }, 'none yet')]));
  if (now !== undefined) document.getElementById('clock').textContent = `wire time ${new Date(Number(now / PS_PER_MS)).toISOString()}`;
}

function connect() {
  const token = new URLSearchParams(location.search).get('access_token');
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.searchParams.set('access_token', token);
  const ws = new WebSocket(url);
  const status = document.getElementById('status');
  ws.onopen = () => { status.textContent = 'live'; status.className = 'status live'; };
  ws.onclose = () => {
    status.textContent = 'disconnected, retrying'; status.className = 'status down';
    setTimeout(connect, 1000);
  };
  ws.onmessage = (msg) => {
    const data = JSON.parse(msg.data);
    if (data.type === 'snapshot') {
      state.migrations = new Map(data.migrations.map((m) => [m.id, m]));
      state.paced = data.paced; state.speed = data.speed || 1;
      setNow(data.now);
    } else {
      if (data.view) state.migrations.set(data.view.id, data.view);
      setNow(data.now);
      // Keep the page's memory bounded like the server's: drop the oldest ended ones.
      const ended = [...state.migrations.values()].filter((m) => m.state !== 'running');
      if (ended.length > 4 * RECENT_SHOWN) {
        ended.sort((a, b) => (ps(a.endedAt) > ps(b.endedAt) ? 1 : -1));
        for (const m of ended.slice(0, ended.length - 4 * RECENT_SHOWN)) state.migrations.delete(m.id);
      }
    }
    scheduleRender();
  };
}

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => { renderPending = false; render(); });
}

legend();
connect();
setInterval(render, 200);
