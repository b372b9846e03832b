// A node's page: what it is and where it stands (state, power, last error, the step it runs with
// its progress), its hardware from inspection (inventory, and the LLDP neighbours recorded on its
// ports), its ports, its history as a timeline, and the actions. Live: a change of this node in
// the stream reloads it.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, onNodes } from './api.ts';
import { ACTIONS, type Action } from './actions.ts';
import { Confirm } from './confirm.tsx';
import { health, stateClass } from './format.ts';

type Json = Record<string, any>;

interface Loaded { node: Json; ports: Json[]; history: Json[]; inventory: Json | null; inventoryNote: string }

async function load(uuid: string): Promise<Loaded> {
  const [node, ports, history, inv] = await Promise.all([
    api<Json>('GET', `/v1/nodes/${uuid}`),
    api<{ ports: Json[] }>('GET', `/v1/nodes/${uuid}/ports/detail`),
    api<{ history: Json[] }>('GET', `/v1/nodes/${uuid}/history?detail=True&limit=1000`),
    api<Json>('GET', `/v1/nodes/${uuid}/inventory`).then((r) => ({ r, note: '' }), (err: ApiError) => ({ r: null, note: err.status === 404 ? 'Not inspected yet.' : err.message })),
  ]);
  return { node, ports: ports.ports, history: history.history, inventory: inv.r, inventoryNote: inv.note };
}

/** The step in flight and how far the plan has come (driver_internal_info's <kind>_steps and _step_index). */
function currentStep(node: Json): { kind: string; step: Json; index: number; count: number } | null {
  for (const kind of ['deploy', 'clean', 'service']) {
    const step = node[`${kind}_step`];
    if (step && Object.keys(step).length) {
      const info = node.driver_internal_info ?? {};
      const plan = Array.isArray(info[`${kind}_steps`]) ? info[`${kind}_steps`] : [];
      const index = typeof info[`${kind}_step_index`] === 'number' ? info[`${kind}_step_index`] : 0;
      return { kind, step, index, count: plan.length };
    }
  }
  return null;
}

function gib(bytes: unknown): string {
  return typeof bytes === 'number' ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : '';
}

function Hardware(props: { inventory: Json | null; note: string; ports: Json[] }) {
  const inv = props.inventory?.inventory;
  const neighbours = props.ports.filter((p) => p.local_link_connection && Object.keys(p.local_link_connection).length);
  return (
    <section class="card">
      <h3>Hardware</h3>
      {!inv ? <p class="muted">{props.note}</p> : (
        <dl class="facts">
          <dt>System</dt><dd>{[inv.system_vendor?.manufacturer, inv.system_vendor?.product_name].filter(Boolean).join(' ')} {inv.system_vendor?.serial_number && `(serial ${inv.system_vendor.serial_number})`}</dd>
          <dt>CPU</dt><dd>{inv.cpu?.count} × {inv.cpu?.model_name} ({inv.cpu?.architecture})</dd>
          <dt>Memory</dt><dd>{inv.memory?.physical_mb} MiB</dd>
          <dt>Disks</dt><dd>{(inv.disks ?? []).map((d: Json) => `${d.name} ${gib(d.size)}${d.rotational ? ' HDD' : ''}`).join(', ')}</dd>
          <dt>Interfaces</dt><dd>{(inv.interfaces ?? []).map((i: Json) => `${i.name} ${i.mac_address}`).join(', ')}</dd>
          <dt>Boot</dt><dd>{inv.boot?.current_boot_mode} from {inv.boot?.pxe_interface}</dd>
        </dl>
      )}
      <h4>LLDP neighbours</h4>
      {neighbours.length === 0 ? <p class="muted">None recorded.</p> : (
        <table class="small" data-testid="lldp">
          <thead><tr><th>Port</th><th>Switch</th><th>Switch port</th><th>Switch name</th></tr></thead>
          <tbody>{neighbours.map((p) => <tr><td>{p.address}</td><td>{p.local_link_connection.switch_id}</td><td>{p.local_link_connection.port_id}</td><td>{p.local_link_connection.switch_info}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}

function Timeline(props: { history: Json[] }) {
  return (
    <section class="card wide">
      <h3>History</h3>
      <ol class="timeline" data-testid="timeline">
        {[...props.history].reverse().map((h) => (
          <li class={`sev-${String(h.severity).toLowerCase()}`}>
            <time>{new Date(h.created_at).toLocaleString()}</time>
            <span class="etype">{h.event_type}</span>
            <span class="event">{h.event}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function NodePage(props: { uuid: string }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState('');
  const [action, setAction] = useState<Action | null>(null);

  useEffect(() => {
    let alive = true;
    let pending: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => load(props.uuid).then((d) => alive && (setData(d), setError('')), (err) => alive && setError((err as Error).message));
    void refresh();
    const off = onNodes((e) => {
      if (!e.nodes.some((n) => n.uuid === props.uuid) && !e.deleted.includes(props.uuid)) return;
      pending ??= setTimeout(() => { pending = undefined; void refresh(); }, 200);
    });
    return () => { alive = false; off(); if (pending) clearTimeout(pending); };
  }, [props.uuid]);

  if (error && !data) return <p class="error">{error}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  const n = data.node;
  const step = currentStep(n);
  const h = health(n as any);
  return (
    <section class="node-page" data-uuid={n.uuid} data-state={n.provision_state}>
      <h2>{n.name ?? n.uuid} <span class={stateClass(n.provision_state)} data-testid="node-state">{n.provision_state}</span>
        {n.target_provision_state && <span class="target"> → {n.target_provision_state}</span>}</h2>
      <div class="actions">{ACTIONS.map((a) => <button class={a.danger ? 'danger' : ''} onClick={() => setAction(a)}>{a.label}</button>)}</div>
      {n.last_error && <p class="last-error" data-testid="last-error"><strong>Last error:</strong> {n.last_error}</p>}
      <div class="cards">
        <section class="card">
          <h3>Node</h3>
          <dl class="facts">
            <dt>UUID</dt><dd>{n.uuid}</dd>
            <dt>Power</dt><dd>{n.power_state ?? '—'}{n.target_power_state && ` → ${n.target_power_state}`}</dd>
            <dt>Health</dt><dd class={`h-${h.level}`}>{h.text}</dd>
            <dt>Maintenance</dt><dd>{n.maintenance ? `yes${n.maintenance_reason ? `: ${n.maintenance_reason}` : ''}` : 'no'}</dd>
            <dt>Driver</dt><dd>{n.driver} (deploy {n.deploy_interface}, boot {n.boot_interface}, inspect {n.inspect_interface})</dd>
            <dt>Resource class</dt><dd>{n.resource_class ?? '—'}</dd>
            <dt>Owner / lessee</dt><dd>{n.owner ?? '—'} / {n.lessee ?? '—'}</dd>
            <dt>Image</dt><dd>{n.instance_info?.image_source ?? '—'}</dd>
          </dl>
        </section>
        <section class="card">
          <h3>Current step</h3>
          {step ? (
            <div data-testid="current-step">
              <p>{step.kind}: <strong>{step.step.interface}.{step.step.step}</strong></p>
              {step.count > 0 && <><progress max={step.count} value={Math.min(step.index, step.count)} /> <span>{Math.min(step.index + 1, step.count)} of {step.count}</span></>}
            </div>
          ) : <p class="muted">No step running.</p>}
          <h3>Ports</h3>
          <table class="small">
            <thead><tr><th>MAC</th><th>PXE</th><th>Physical network</th></tr></thead>
            <tbody>{data.ports.map((p) => <tr><td>{p.address}</td><td>{p.pxe_enabled ? 'yes' : 'no'}</td><td>{p.physical_network ?? ''}</td></tr>)}</tbody>
          </table>
        </section>
        <Hardware inventory={data.inventory} note={data.inventoryNote} ports={data.ports} />
        <Timeline history={data.history} />
      </div>
      {action && <Confirm action={action} uuids={[n.uuid]} names={() => n.name ?? n.uuid} onClose={() => setAction(null)} />}
    </section>
  );
}
