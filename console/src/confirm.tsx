// The confirmation every action passes through: what will happen to how many nodes, the deploy
// arguments or maintenance reason it needs, then the outcome per node.
import { useState } from 'preact/hooks';
import { runOnAll, type Action, type Outcome } from './actions.ts';

export function Confirm(props: { action: Action; uuids: string[]; names: (uuid: string) => string; onClose: () => void }) {
  const { action, uuids } = props;
  const [image, setImage] = useState('');
  const [checksum, setChecksum] = useState('');
  const [drive, setDrive] = useState('');
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<number | null>(null);
  const [outcomes, setOutcomes] = useState<Outcome[] | null>(null);

  const go = async (e: Event) => {
    e.preventDefault();
    setDone(0);
    const args = { deploy: action.deploy ? { image_source: image, image_checksum: checksum || undefined, configdrive: drive } : undefined, reason };
    setOutcomes(await runOnAll(action, uuids, args, setDone));
  };
  const failed = outcomes?.filter((o) => o.error) ?? [];
  const who = uuids.length === 1 ? props.names(uuids[0]) : `${uuids.length} nodes`;

  return (
    <div class="modal" role="dialog" aria-label={`Confirm ${action.label}`}>
      <form class="dialog" onSubmit={go}>
        <h2>{action.label}: {who}</h2>
        <p>This will {action.says} for {who}.</p>
        {action.deploy && (
          <>
            <label>Image URL <input name="image_source" required value={image} onInput={(e) => setImage(e.currentTarget.value)} placeholder="http://…/image.qcow2" /></label>
            <label>Checksum (optional) <input name="image_checksum" value={checksum} onInput={(e) => setChecksum(e.currentTarget.value)} placeholder="sha256 hex, or a URL of a checksum file" /></label>
            <label>Config drive (optional): JSON with meta_data / user_data / network_data, or user data as it is
              <textarea name="configdrive" rows={5} value={drive} onInput={(e) => setDrive(e.currentTarget.value)} placeholder={'#cloud-config\nhostname: node-1'} />
            </label>
          </>
        )}
        {action.reason && <label>Reason <input name="reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} /></label>}
        {outcomes === null ? (
          <div class="buttons">
            <button type="button" onClick={props.onClose}>Cancel</button>
            <button type="submit" class={action.danger ? 'danger' : 'primary'} disabled={done !== null}>
              {done === null ? `${action.label} ${who}` : `${done} / ${uuids.length}…`}
            </button>
          </div>
        ) : (
          <div>
            <p class="outcome">{outcomes.length - failed.length} accepted{failed.length ? `, ${failed.length} refused` : ''}.</p>
            {failed.length > 0 && <ul class="errors">{failed.slice(0, 20).map((f) => <li key={f.uuid}>{props.names(f.uuid)}: {f.error}</li>)}</ul>}
            <div class="buttons"><button type="button" class="primary" onClick={props.onClose}>Close</button></div>
          </div>
        )}
      </form>
    </div>
  );
}
