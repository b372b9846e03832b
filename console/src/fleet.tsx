// The fleet view: every node the caller may see, in a virtualised table (only the rows in view
// are in the DOM) over server-side pages of /console/api/fleet, filtered and searched by the
// server, and kept live by the change stream: a changed row is replaced where it stands.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, onNodes, type FleetRow } from './api.ts';
import { ACTIONS, type Action } from './actions.ts';
import { Confirm } from './confirm.tsx';
import { STATE_GROUPS, ago, health, stateClass } from './format.ts';

const ROW = 34;
const PAGE = 100;

interface Filter { search: string; group: string; problems: boolean; maintenance: boolean }

function query(f: Filter, offset: number, limit: number): string {
  const p = new URLSearchParams({ offset: String(offset), limit: String(limit) });
  if (f.search) p.set('search', f.search);
  if (f.group) p.set('provision_state', STATE_GROUPS[f.group].join(','));
  if (f.problems) p.set('problems', 'true');
  if (f.maintenance) p.set('maintenance', 'true');
  return `/console/api/fleet?${p}`;
}

export function Fleet() {
  const [filter, setFilter] = useState<Filter>({ search: '', group: '', problems: false, maintenance: false });
  const [search, setSearch] = useState('');
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState('');
  // Loaded rows by position; a version counter re-renders when any arrives or changes.
  const rows = useRef(new Map<number, FleetRow>());
  const where = useRef(new Map<string, number>());
  const loading = useRef(new Set<number>());
  const [version, setVersion] = useState(0);
  const [scroll, setScroll] = useState(0);
  const [height, setHeight] = useState(600);
  const [selected, setSelected] = useState(new Set<string>());
  const [action, setAction] = useState<Action | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const generation = useRef(0);

  // The search box asks the server once typing pauses.
  useEffect(() => {
    const t = setTimeout(() => setFilter((f) => (f.search === search ? f : { ...f, search })), 250);
    return () => clearTimeout(t);
  }, [search]);

  const reset = () => {
    generation.current++;
    rows.current.clear();
    where.current.clear();
    loading.current.clear();
    setTotal(null);
    setVersion((v) => v + 1);
  };
  useEffect(reset, [filter]);

  const loadPage = async (page: number) => {
    if (loading.current.has(page)) return;
    loading.current.add(page);
    const gen = generation.current;
    try {
      const r = await api<{ total: number; nodes: FleetRow[] }>('GET', query(filter, page * PAGE, PAGE));
      if (gen !== generation.current) return;
      r.nodes.forEach((n, i) => {
        rows.current.set(page * PAGE + i, n);
        where.current.set(n.uuid, page * PAGE + i);
      });
      setTotal(r.total);
      setError('');
      setVersion((v) => v + 1);
    } catch (err) {
      loading.current.delete(page);
      setError((err as Error).message);
    }
  };

  const first = Math.max(0, Math.floor(scroll / ROW) - 5);
  const last = Math.min((total ?? PAGE) - 1, Math.ceil((scroll + height) / ROW) + 5);
  useEffect(() => {
    for (let p = Math.floor(first / PAGE); p <= Math.floor(Math.max(first, last) / PAGE); p++) if (!loading.current.has(p)) void loadPage(p);
  }, [first, last, version, total]);

  // Live: rows in view change in place; a node we have not loaded may be new, so the total is re-read (once a second at most).
  useEffect(() => {
    let recount: ReturnType<typeof setTimeout> | undefined;
    const off = onNodes((e) => {
      let unknown = e.deleted.length > 0;
      for (const n of e.nodes) {
        const at = where.current.get(n.uuid);
        if (at === undefined) unknown = true;
        else rows.current.set(at, n);
      }
      setVersion((v) => v + 1);
      if (unknown && !recount) {
        recount = setTimeout(async () => {
          recount = undefined;
          const gen = generation.current;
          const r = await api<{ total: number }>('GET', query(filter, 0, 1)).catch(() => undefined);
          if (r && gen === generation.current && r.total !== total) reset();
        }, 1000);
      }
    });
    return () => {
      off();
      if (recount) clearTimeout(recount);
    };
  }, [filter, total]);

  useEffect(() => {
    const measure = () => box.current && setHeight(box.current.clientHeight);
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, []);

  const visible = useMemo(() => {
    const out: { i: number; n?: FleetRow }[] = [];
    for (let i = first; i <= last; i++) out.push({ i, n: rows.current.get(i) });
    return out;
  }, [first, last, version]);

  const toggle = (uuid: string) => setSelected((s) => {
    const next = new Set(s);
    if (next.has(uuid)) next.delete(uuid);
    else next.add(uuid);
    return next;
  });
  const nameOf = (uuid: string) => {
    const at = where.current.get(uuid);
    return (at !== undefined && rows.current.get(at)?.name) || uuid;
  };

  return (
    <section class="fleet">
      <div class="toolbar">
        <input type="search" aria-label="Search" placeholder="Search name or UUID" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        <select aria-label="State" value={filter.group} onChange={(e) => setFilter({ ...filter, group: e.currentTarget.value })}>
          <option value="">all states</option>
          {Object.keys(STATE_GROUPS).map((g) => <option value={g}>{g}</option>)}
        </select>
        <label><input type="checkbox" checked={filter.problems} onChange={(e) => setFilter({ ...filter, problems: e.currentTarget.checked })} /> with errors</label>
        <label><input type="checkbox" checked={filter.maintenance} onChange={(e) => setFilter({ ...filter, maintenance: e.currentTarget.checked })} /> in maintenance</label>
        <span class="count" data-testid="fleet-total">{total === null ? '…' : `${total} nodes`}</span>
      </div>
      {selected.size > 0 && (
        <div class="bulk" role="toolbar" aria-label="Bulk actions">
          <span>{selected.size} selected</span>
          {ACTIONS.map((a) => <button class={a.danger ? 'danger' : ''} onClick={() => setAction(a)}>{a.label}</button>)}
          <button onClick={() => setSelected(new Set())}>Clear</button>
        </div>
      )}
      {error && <p class="error">{error}</p>}
      <div class="thead row">
        <span class="c-sel" />
        <span class="c-name">Name</span><span class="c-state">State</span><span class="c-power">Power</span>
        <span class="c-health">Health</span><span class="c-owner">Owner</span><span class="c-error">Last error</span><span class="c-when">Changed</span>
      </div>
      <div class="viewport" ref={box} onScroll={(e) => setScroll(e.currentTarget.scrollTop)}>
        <div style={{ height: `${(total ?? 0) * ROW}px`, position: 'relative' }}>
          {visible.map(({ i, n }) => (
            <div class="row" key={n?.uuid ?? `i${i}`} style={{ top: `${i * ROW}px` }} data-uuid={n?.uuid} data-state={n?.provision_state}>
              {n ? (
                <>
                  <span class="c-sel"><input type="checkbox" aria-label={`select ${n.name ?? n.uuid}`} checked={selected.has(n.uuid)} onChange={() => toggle(n.uuid)} /></span>
                  <span class="c-name"><a href={`#/nodes/${n.uuid}`}>{n.name ?? n.uuid}</a></span>
                  <span class="c-state"><span class={stateClass(n.provision_state)}>{n.provision_state}</span>{n.target_provision_state && <span class="target"> → {n.target_provision_state}</span>}</span>
                  <span class="c-power">{n.power_state ?? '—'}{n.target_power_state && ` → ${n.target_power_state}`}</span>
                  <span class={`c-health h-${health(n).level}`}>{health(n).text}</span>
                  <span class="c-owner">{n.owner ?? ''}</span>
                  <span class="c-error" title={n.last_error ?? ''}>{n.last_error ?? ''}</span>
                  <span class="c-when">{ago(n.updated_at ?? n.provision_updated_at)}</span>
                </>
              ) : <span class="loading">…</span>}
            </div>
          ))}
        </div>
      </div>
      {action && <Confirm action={action} uuids={[...selected]} names={nameOf} onClose={() => { setAction(null); setSelected(new Set()); }} />}
    </section>
  );
}
