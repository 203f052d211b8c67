import { useEffect, useState } from 'react';
import type { OutboxEntry } from '@syncline/client';
import { useLiveQuery, useObservable, useSyncStatus } from '@syncline/client/react';
import type { Device } from './devices';
import { shortHash } from './format';
import { SCOPE, type Card } from './model';

interface HashCheck {
  local: { hash: string; count: number };
  server: { hash: string; count: number; head: number } | null;
  error: string | null;
}

/** What Syncline keeps for this device: outbox, record versions, cursor, and a convergence check. */
export function Inspector({ device }: { device: Device }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="inspector" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Inspector: outbox, versions, cursor, hash</summary>
      {open && <InspectorBody device={device} />}
    </details>
  );
}

function InspectorBody({ device }: { device: Device }) {
  const { db, sync } = device;
  const status = useSyncStatus();
  // Syncline's public views: no internal table names here.
  const outbox = useObservable(() => sync.outbox$, [sync]);
  const records = useObservable(() => sync.records$('cards'), [sync]);
  const scopes = useObservable(() => sync.scopes$, [sync]);
  const cards = useLiveQuery(() => db.cards.toArray(), [db]);
  const [check, setCheck] = useState<HashCheck | null>(null);
  const [round, setRound] = useState(0);
  const scope = scopes?.find((s) => s.scope === SCOPE);
  const cursor = scope?.cursor ?? 0;
  const online = status?.online === true;
  const live = status?.phase === 'live';
  const pending = status?.pending ?? 0;

  // Compare the local and server hashes whenever this copy may have changed.
  useEffect(() => {
    let stale = false;
    const run = async (): Promise<HashCheck> => {
      const local = await sync.localHash(SCOPE);
      if (!online) return { local, server: null, error: 'offline' };
      try {
        const s = await sync.serverHash(SCOPE);
        return { local, server: { hash: s.hash, count: s.count, head: s.head }, error: null };
      } catch (err) {
        return { local, server: null, error: err instanceof Error ? err.message : String(err) };
      }
    };
    run().then(
      (c) => {
        if (!stale) setCheck(c);
      },
      (err: unknown) => console.error(err),
    );
    return () => {
      stale = true;
    };
  }, [sync, online, live, pending, cursor, cards, round]);

  const equal = check?.server ? check.server.hash === check.local.hash : null;
  const titles = new Map((cards ?? []).map((c: Card) => [c.id, c.title]));

  return (
    <div className="inspector-body">
      <dl className="facts">
        <div>
          <dt>Client id</dt>
          <dd>
            <code>{sync.clientId}</code>
          </dd>
        </div>
        <div>
          <dt>Engine</dt>
          <dd>
            {status?.phase ?? '…'}
            {status && !status.isLeader ? ' (another tab leads)' : ''}
          </dd>
        </div>
        <div>
          <dt>
            Cursor of <code>{SCOPE}</code>
          </dt>
          <dd>
            v{cursor}
            {check?.server
              ? ` (server head v${check.server.head})`
              : scope?.head != null
                ? ` (head v${scope.head})`
                : ''}
          </dd>
        </div>
      </dl>

      <section className="hash">
        <h4>Scope hash</h4>
        <p
          role="status"
          aria-label="Scope hash"
          className={equal === true ? 'verdict ok' : equal === false ? 'verdict bad' : 'verdict'}
        >
          {equal === true
            ? 'Equal to the server'
            : equal === false
              ? pending > 0 || !live
                ? 'Differs from the server (changes still syncing)'
                : 'Differs from the server'
              : check?.error === 'offline'
                ? 'Server hash unavailable offline'
                : check?.error
                  ? `Server hash unavailable: ${check.error}`
                  : 'Checking…'}
        </p>
        <dl className="facts">
          <div>
            <dt>Local</dt>
            <dd>
              <code>{check ? shortHash(check.local.hash) : '…'}</code> ({check?.local.count ?? 0} records)
            </dd>
          </div>
          <div>
            <dt>Server</dt>
            <dd>
              <code>{check?.server ? shortHash(check.server.hash) : '—'}</code>
              {check?.server ? ` (${check.server.count} records)` : ''}
            </dd>
          </div>
        </dl>
        <button type="button" className="small" onClick={() => setRound((r) => r + 1)}>
          Compare again
        </button>
      </section>

      <section>
        <h4>
          Outbox <span className="count">{outbox?.length ?? 0}</span>
        </h4>
        {!outbox || outbox.length === 0 ? (
          <p className="muted">Empty: everything is on the server.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">mid</th>
                  <th scope="col">op</th>
                  <th scope="col">card</th>
                  <th scope="col">base</th>
                  <th scope="col">change</th>
                </tr>
              </thead>
              <tbody>
                {outbox.map((e) => (
                  <tr key={e.mid}>
                    <td>{e.mid}</td>
                    <td>{e.mutation.op}</td>
                    <td>{titles.get(e.key) ?? e.key}</td>
                    <td>v{e.mutation.base}</td>
                    <td>
                      <code>{describeMutation(e)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section>
        <h4>
          Record versions <span className="count">{records?.length ?? 0}</span>
        </h4>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">card</th>
                <th scope="col">version</th>
                <th scope="col">state</th>
              </tr>
            </thead>
            <tbody>
              {(records ?? []).map((m) => (
                <tr key={`${m.table}/${m.id}`}>
                  <td>{titles.get(m.id) ?? `${m.id} (deleted)`}</td>
                  <td>v{m.version}</td>
                  <td>
                    {m.pending > 0
                      ? `${m.pending} local change${m.pending === 1 ? '' : 's'} pending`
                      : 'confirmed'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}

function describeMutation(e: OutboxEntry): string {
  const m = e.mutation;
  switch (m.op) {
    case 'put':
      return `put ${Object.keys(m.value).length} fields`;
    case 'patch':
      return [
        ...Object.entries(m.patch.set ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
        ...(m.patch.unset ?? []).map((k) => `-${k}`),
      ].join(' ');
    case 'inc':
      return `${m.field} +${m.by}`;
    case 'restore':
      return `restore v${m.version}`;
    case 'delete':
      return 'delete';
  }
}
