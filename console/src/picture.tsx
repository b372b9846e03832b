// The fleet picture (/console/api/picture): nodes by state over the last hours as stacked bars,
// deploy durations as a histogram, failures by reason. Plain SVG: three small charts need no library.
import { useEffect, useState } from 'preact/hooks';
import { api, onNodes } from './api.ts';

interface Picture {
  now: number;
  since: number;
  series: { at: number; counts: Record<string, number> }[];
  deploys: { node: string; seconds: number; at: number }[];
  failures: { state: string; reason: string; count: number }[];
}

const PALETTE = ['#2e7d32', '#1565c0', '#6a1b9a', '#ef6c00', '#00838f', '#ad1457', '#5d4037', '#9e9d24', '#455a64', '#c62828'];

function colour(state: string, order: string[]): string {
  if (/failed$|^error$/.test(state)) return '#c62828';
  if (state === 'active') return '#2e7d32';
  return PALETTE[(order.indexOf(state) % (PALETTE.length - 2)) + 1];
}

function ByState(props: { p: Picture }) {
  const W = 720, H = 220;
  const states = [...new Set(props.p.series.flatMap((s) => Object.keys(s.counts)))].sort();
  const max = Math.max(1, ...props.p.series.map((s) => Object.values(s.counts).reduce((a, b) => a + b, 0)));
  const bw = W / props.p.series.length;
  return (
    <figure class="card chart">
      <figcaption>Nodes by state since {new Date(props.p.since).toLocaleString()}</figcaption>
      <svg viewBox={`0 0 ${W} ${H + 20}`} role="img" aria-label="nodes by state over time">
        {props.p.series.map((s, i) => {
          let y = H;
          return states.map((st) => {
            const h = ((s.counts[st] ?? 0) / max) * H;
            y -= h;
            return h > 0 ? <rect x={i * bw + 1} y={y} width={bw - 2} height={h} fill={colour(st, states)}><title>{`${new Date(s.at).toLocaleTimeString()} ${st}: ${s.counts[st]}`}</title></rect> : null;
          });
        })}
        <text x="0" y={H + 16} class="axis">{new Date(props.p.since).toLocaleTimeString()}</text>
        <text x={W} y={H + 16} text-anchor="end" class="axis">now</text>
        <text x="4" y="12" class="axis">{max}</text>
      </svg>
      <ul class="legend">{states.map((st) => <li><i style={{ background: colour(st, states) }} />{st}: {props.p.series[props.p.series.length - 1]?.counts[st] ?? 0}</li>)}</ul>
    </figure>
  );
}

function Durations(props: { p: Picture }) {
  const d = props.p.deploys.map((x) => x.seconds);
  const W = 720, H = 160, BINS = 20;
  if (d.length === 0) return <figure class="card chart"><figcaption>Deploy durations</figcaption><p class="muted">No deploy finished in this window.</p></figure>;
  const hi = Math.max(...d) || 1;
  const bins = new Array(BINS).fill(0);
  for (const s of d) bins[Math.min(BINS - 1, Math.floor((s / hi) * BINS))]++;
  const top = Math.max(...bins);
  const sorted = [...d].sort((a, b) => a - b);
  const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  return (
    <figure class="card chart">
      <figcaption>Deploy durations ({d.length} deploys; p50 {pct(0.5)} s, p95 {pct(0.95)} s, max {hi.toFixed(1)} s)</figcaption>
      <svg viewBox={`0 0 ${W} ${H + 20}`} role="img" aria-label="deploy durations">
        {bins.map((n, i) => <rect x={(i * W) / BINS + 1} y={H - (n / top) * H} width={W / BINS - 2} height={(n / top) * H} fill="#1565c0"><title>{`${((i * hi) / BINS).toFixed(1)}–${(((i + 1) * hi) / BINS).toFixed(1)} s: ${n}`}</title></rect>)}
        <text x="0" y={H + 16} class="axis">0 s</text>
        <text x={W} y={H + 16} text-anchor="end" class="axis">{hi.toFixed(1)} s</text>
      </svg>
    </figure>
  );
}

function Failures(props: { p: Picture }) {
  const top = Math.max(1, ...props.p.failures.map((f) => f.count));
  return (
    <figure class="card chart">
      <figcaption>Failures by reason</figcaption>
      {props.p.failures.length === 0 ? <p class="muted">No failure in this window.</p> : (
        <table class="small failures">
          <tbody>{props.p.failures.slice(0, 15).map((f) => (
            <tr><td class="n">{f.count}</td><td class="bar"><i style={{ width: `${(f.count / top) * 100}%` }} /></td><td><strong>{f.state}</strong>: {f.reason}</td></tr>
          ))}</tbody>
        </table>
      )}
    </figure>
  );
}

export function PicturePage() {
  const [hours, setHours] = useState(6);
  const [p, setP] = useState<Picture | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let alive = true;
    let pending: ReturnType<typeof setTimeout> | undefined;
    const load = () => api<Picture>('GET', `/console/api/picture?hours=${hours}`).then((x) => alive && setP(x), (e) => alive && setError(e.message));
    void load();
    // Redrawn at most every 5 s while the fleet changes.
    const off = onNodes(() => { pending ??= setTimeout(() => { pending = undefined; void load(); }, 5000); });
    return () => { alive = false; off(); if (pending) clearTimeout(pending); };
  }, [hours]);
  return (
    <section class="picture">
      <div class="toolbar">
        <label>Window <select value={hours} onChange={(e) => setHours(Number(e.currentTarget.value))}>{[1, 6, 24, 72, 168].map((h) => <option value={h}>{h} h</option>)}</select></label>
      </div>
      {error && <p class="error">{error}</p>}
      {p && <div class="cards"><ByState p={p} /><Durations p={p} /><Failures p={p} /></div>}
    </section>
  );
}
