// render.mjs draws deploy/grafana/dashboards/gomegle.json from a real Prometheus: every
// panel's queries are run as they are written (the dashboard's variables replaced: job,
// instance = all, $__rate_interval), through /api/v1/query_range, and drawn where the
// panel's gridPos puts it, as inline SVG in one HTML page that Debian's Chromium
// screenshots. It is not Grafana (which cannot run here): same queries, same layout, its own
// simple drawing. Used by run.sh; by hand:
//
//   PROM_URL=http://127.0.0.1:9090 START=<unix s> END=<unix s> OUT=docs/x.png node deploy/screenshot/render.mjs
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const promURL = env.PROM_URL ?? 'http://127.0.0.1:9090';
const end = Number(env.END ?? Math.floor(Date.now() / 1000));
const start = Number(env.START ?? end - 3600);
const step = Number(env.STEP ?? 5);
const rateInterval = env.RATE_INTERVAL ?? '20s';
const out = env.OUT ?? 'docs/monitoring-dashboard.png';
const caption = env.CAPTION ?? '';
const dashboardFile = new URL('../grafana/dashboards/gomegle.json', import.meta.url);

const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8'));
const vars = { $__rate_interval: rateInterval, $job: 'gomegle', $instance: '.*' };
const expand = (expr) => {
  for (const k of Object.keys(vars).sort((a, b) => b.length - a.length)) expr = expr.replaceAll(k, vars[k]);
  if (expr.includes('$')) throw new Error(`unknown dashboard variable in ${expr}`);
  return expr;
};

async function queryRange(expr) {
  const u = new URL('/api/v1/query_range', promURL);
  u.search = new URLSearchParams({ query: expand(expr), start: String(start), end: String(end), step: String(step) }).toString();
  const res = await fetch(u, { signal: AbortSignal.timeout(30_000) });
  const body = await res.json();
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result; // [{metric, values: [[t, "v"], ...]}]
}

const legendOf = (fmt, metric) =>
  fmt ? fmt.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l) => metric[l] ?? '') : JSON.stringify(metric);

// ---- value formatting, by the panel's Grafana unit ----
function fmt(v, unit) {
  if (v == null || Number.isNaN(v)) return '–';
  const n = (x, d = 2) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(d));
  switch (unit) {
    case 's':
      if (v === 0) return '0 s';
      return v < 0.001 ? `${n(v * 1e6)} µs` : v < 1 ? `${n(v * 1000)} ms` : `${n(v)} s`;
    case 'percentunit':
      return `${n(v * 100, 1)} %`;
    case 'ops':
      return `${n(v)}/s`;
    case 'bytes':
      return v >= 1 << 20 ? `${n(v / (1 << 20))} MiB` : `${n(v / 1024)} KiB`;
    default:
      if (v >= 1000) return `${n(v / 1000)} k`;
      return Number.isInteger(v) ? String(v) : n(v);
  }
}

const palette = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#705da0',
  '#37872d', '#fade2a', '#c4162a', '#1f60c4', '#8f3bb8', '#ff9830', '#96d98d', '#ffb357'];
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

// series: [{name, points: Map(t -> v)}]; stacked adds them up in order.
function timeseriesSVG(series, unit, stacked, width, height, maxFixed) {
  const padL = 62, padR = 8, padT = 6, padB = 18;
  const w = width - padL - padR, h = height - padT - padB;
  const times = [];
  for (let t = start; t <= end; t += step) times.push(t);
  let lines = series.map((s) => times.map((t) => s.points.get(t) ?? null));
  if (stacked) {
    const acc = times.map(() => 0);
    lines = lines.map((l) => l.map((v, i) => (v == null ? null : (acc[i] += v))));
  }
  let max = maxFixed ?? 0;
  if (maxFixed == null) for (const l of lines) for (const v of l) if (v != null && v > max) max = v;
  if (max === 0) max = 1;
  max *= maxFixed == null ? 1.1 : 1;
  const x = (i) => padL + (i / Math.max(1, times.length - 1)) * w;
  const y = (v) => padT + h - (v / max) * h;
  let svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">`;
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4, yy = y(v);
    svg += `<line x1="${padL}" x2="${padL + w}" y1="${yy}" y2="${yy}" stroke="#2c3235"/>`;
    svg += `<text x="${padL - 6}" y="${yy + 4}" text-anchor="end" fill="#9fa7b3" font-size="11">${esc(fmt(v, unit))}</text>`;
  }
  const span = end - start;
  for (let k = 0; k <= 4; k++) {
    const t = start + (span * k) / 4;
    const d = new Date(t * 1000);
    const label = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')}`;
    svg += `<text x="${padL + (w * k) / 4}" y="${height - 4}" text-anchor="middle" fill="#9fa7b3" font-size="11">${label}</text>`;
  }
  lines.forEach((l, si) => {
    const color = palette[si % palette.length];
    let d = '', fill = '', open = false, first = 0;
    l.forEach((v, i) => {
      if (v == null) {
        if (open && !stacked) fill += `L${x(i - 1)},${y(0)}L${x(first)},${y(0)}Z`;
        open = false;
        return;
      }
      if (!open) { d += `M${x(i)},${y(v)}`; fill += `M${x(i)},${y(0)}L${x(i)},${y(v)}`; first = i; open = true; }
      else { d += `L${x(i)},${y(v)}`; fill += `L${x(i)},${y(v)}`; }
    });
    if (open) fill += `L${x(l.length - 1)},${y(0)}L${x(first)},${y(0)}Z`;
    if (!stacked) svg += `<path d="${fill}" fill="${color}" fill-opacity="0.08" stroke="none"/>`;
    svg += `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.4"/>`;
  });
  return svg + '</svg>';
}

const rowHeight = 30, gap = 6, width = 1680;
const colWidth = (width - gap) / 24;
let html = '';
let bottom = 0;
const flat = [];
for (const p of dashboard.panels) { flat.push(p); for (const c of p.panels ?? []) flat.push(c); }
for (const p of flat) {
  const { x, y, w, h } = p.gridPos;
  const left = x * colWidth + gap, top = y * rowHeight + gap;
  const pw = w * colWidth - gap, ph = h * rowHeight - gap;
  bottom = Math.max(bottom, top + ph);
  if (p.type === 'row') {
    html += `<div class="row" style="left:${left}px;top:${top}px;width:${pw}px">${esc(p.title)}</div>`;
    continue;
  }
  const unit = p.fieldConfig?.defaults?.unit ?? 'short';
  const stacked = p.fieldConfig?.defaults?.custom?.stacking?.mode === 'normal';
  const series = [];
  for (const t of p.targets) {
    for (const r of await queryRange(t.expr)) {
      series.push({ name: legendOf(t.legendFormat, r.metric), points: new Map(r.values.map(([ts, v]) => [Math.round(ts), Number(v)])) });
    }
  }
  series.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  let body;
  if (series.length === 0) {
    body = '<div class="nodata">No data</div>';
  } else if (p.type === 'stat') {
    const s = series[0];
    const last = [...s.points.entries()].sort((a, b) => a[0] - b[0]).at(-1)?.[1];
    body = `<div class="stat">${esc(fmt(last, unit === 'short' ? 'count' : unit))}</div>`;
  } else {
    // legend entries wrap like text: estimate each one's width (11 px font) to know the rows
    let legendRows = 1, lineW = 0;
    for (const s of series) {
      const itemW = 30 + 6.2 * (s.name.length + 8);
      if (lineW > 0 && lineW + itemW > pw - 10) { legendRows++; lineW = 0; }
      lineW += itemW + 12;
    }
    legendRows = Math.min(4, legendRows);
    const chartH = ph - 30 - legendRows * 15;
    const legend = series.map((s, i) => {
      const vals = [...s.points.values()];
      return `<span><i style="background:${palette[i % palette.length]}"></i>${esc(s.name)} <b>${esc(fmt(vals.at(-1), unit))}</b></span>`;
    }).join('');
    body = timeseriesSVG(series, unit, stacked, pw - 10, chartH, p.fieldConfig?.defaults?.max) + `<div class="legend">${legend}</div>`;
  }
  html += `<div class="panel" style="left:${left}px;top:${top}px;width:${pw}px;height:${ph}px"><div class="title">${esc(p.title)}</div>${body}</div>`;
}

const from = new Date(start * 1000).toISOString().replace('.000Z', 'Z');
const to = new Date(end * 1000).toISOString().replace('.000Z', 'Z');
const page = `<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:#111217;color:#ccccdc;font:13px/1.3 "DejaVu Sans",sans-serif}
header{padding:10px 12px 0;font-size:18px;color:#fff}header small{font-size:12px;color:#9fa7b3;margin-left:12px}
main{position:relative;height:${bottom + gap}px;width:${width}px}
.panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:3px;overflow:hidden;padding:4px 5px;box-sizing:border-box}
.title{font-weight:600;color:#d8d9da;margin-bottom:2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.row{position:absolute;font-size:15px;font-weight:600;color:#fff;border-bottom:1px solid #2c3235;padding:6px 0 0}
.stat{font-size:34px;font-weight:600;color:#73bf69;text-align:center;margin-top:14px}
.nodata{color:#9fa7b3;text-align:center;margin-top:30px}
.legend{font-size:11px;display:flex;flex-wrap:wrap;gap:0 12px;max-height:60px;overflow:hidden}
.legend i{display:inline-block;width:10px;height:3px;margin:0 4px 3px 0;vertical-align:middle}
.legend b{font-weight:400;color:#9fa7b3}
footer{padding:4px 12px 10px;color:#9fa7b3;font-size:12px}
</style><header>Go-Megle <small>${esc(from)} – ${esc(to)} (UTC) · step ${step} s · $__rate_interval = ${esc(rateInterval)} · job gomegle, every replica</small></header>
<main>${html}</main><footer>${esc(caption)} Every panel is a query of deploy/grafana/dashboards/gomegle.json, run on a real Prometheus; drawn by deploy/screenshot/render.mjs, not by Grafana.</footer>`;

const htmlFile = env.HTML_OUT ?? join(tmpdir(), 'gomegle-dashboard.html'); // the page, to look at in a browser
await writeFile(htmlFile, page);
const require = createRequire(new URL('../../web/package.json', import.meta.url));
const playwright = await import(pathToFileURL(require.resolve('@playwright/test')).href);
const chromium = playwright.chromium ?? playwright.default.chromium; // a CommonJS module seen from ESM
const browser = await chromium.launch({
  executablePath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const pageH = await browser.newPage({ viewport: { width, height: 800 } });
  await pageH.setContent(page, { waitUntil: 'load' });
  await pageH.screenshot({ path: out, fullPage: true });
} finally {
  await browser.close();
}
console.log(`wrote ${out} (${flat.filter((p) => p.type !== 'row').length} panels) and ${htmlFile}`);
