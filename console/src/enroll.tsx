// Enrollment: one node by the form, or many from an uploaded CSV/YAML inventory (previewed first).
import { useState } from 'preact/hooks';
import { DRIVERS, enroll, parseInventory, type Enrollment } from './inventory.ts';

const EMPTY: Enrollment = { name: '', driver: 'redfish', bmc_address: '', bmc_username: '', bmc_password: '', system_id: '', macs: [], resource_class: '', owner: '' };

export function Enroll(props: { go: (hash: string) => void }) {
  const [form, setForm] = useState<Enrollment>(EMPTY);
  const [macs, setMacs] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [batch, setBatch] = useState<Enrollment[] | null>(null);
  const [results, setResults] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const field = (k: keyof Enrollment, label: string, type = 'text', placeholder = '') => (
    <label>{label}<input name={k} type={type} placeholder={placeholder} value={form[k] as string} onInput={(e) => setForm({ ...form, [k]: e.currentTarget.value })} /></label>
  );

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await enroll({ ...form, macs: macs.split(/[\s,;]+/).filter(Boolean) });
      if (r.existed) setMessage({ ok: false, text: `A node named ${form.name} exists already.` });
      else props.go(`#/nodes/${r.uuid}`);
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const upload = async (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      setBatch(parseInventory(file.name, await file.text()));
      setResults({});
      setMessage(null);
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    }
  };

  const enrollAll = async () => {
    setBusy(true);
    for (const n of batch ?? []) {
      try {
        const r = await enroll(n);
        setResults((x) => ({ ...x, [n.name]: r.existed ? 'exists already' : 'enrolled' }));
      } catch (err) {
        setResults((x) => ({ ...x, [n.name]: `refused: ${(err as Error).message}` }));
      }
    }
    setBusy(false);
  };

  const redfishish = form.driver !== 'ipmi';
  return (
    <section class="enroll">
      <div class="cards">
        <form class="card" onSubmit={submit} aria-label="Enroll a node">
          <h3>Enroll a node</h3>
          {field('name', 'Name', 'text', 'rack1-node07')}
          <label>Hardware type
            <select name="driver" value={form.driver} onChange={(e) => setForm({ ...form, driver: e.currentTarget.value })}>{DRIVERS.map((d) => <option>{d}</option>)}</select>
          </label>
          {form.driver !== 'fake-hardware' && form.driver !== 'manual-management' && (
            <>
              {field('bmc_address', 'BMC address', 'text', redfishish ? 'https://10.0.0.5' : '10.0.0.5')}
              {redfishish && field('system_id', 'Redfish system (optional)', 'text', '/redfish/v1/Systems/1')}
              {field('bmc_username', 'BMC user')}
              {field('bmc_password', 'BMC password', 'password')}
            </>
          )}
          <label>MAC addresses<input name="macs" value={macs} onInput={(e) => setMacs(e.currentTarget.value)} placeholder="52:54:00:12:34:56, …" /></label>
          {field('resource_class', 'Resource class (optional)', 'text', 'baremetal')}
          {field('owner', 'Owner project (optional)')}
          <div class="buttons"><button type="submit" class="primary" disabled={busy}>Enroll</button></div>
        </form>
        <section class="card">
          <h3>Upload an inventory</h3>
          <p class="muted">CSV with a header line, or YAML (a list of nodes). Columns / keys: <code>name, driver, bmc_address, bmc_username, bmc_password, system_id, macs, resource_class, owner</code>. Nodes whose name exists are left alone.</p>
          <input type="file" aria-label="Inventory file" accept=".csv,.yaml,.yml,text/csv" onChange={upload} />
          {batch && (
            <>
              <table class="small" data-testid="inventory-preview">
                <thead><tr><th>Name</th><th>Driver</th><th>BMC</th><th>MACs</th><th>Result</th></tr></thead>
                <tbody>{batch.map((n) => <tr><td>{n.name}</td><td>{n.driver}</td><td>{n.bmc_address}</td><td>{n.macs.join(' ')}</td><td>{results[n.name] ?? ''}</td></tr>)}</tbody>
              </table>
              <div class="buttons"><button class="primary" disabled={busy} onClick={enrollAll}>Enroll {batch.length} nodes</button></div>
            </>
          )}
        </section>
      </div>
      {message && <p class={message.ok ? 'ok' : 'error'}>{message.text}</p>}
    </section>
  );
}
