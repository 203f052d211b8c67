import { useRejections } from '@syncline/client/react';

/** Changes the server refused for good; Syncline has already rolled them back here. */
export function Rejections() {
  const { rejections, dismiss } = useRejections();
  if (!rejections || rejections.length === 0) return null;
  return (
    <section className="rejections" role="alert">
      <h3>Refused by the server</h3>
      <ul>
        {rejections.map((r) => (
          <li key={r.mid}>
            <span>
              {r.mutation.op} of card <code>{r.id}</code>: {r.error.message} <code>{r.error.code}</code>. It
              was undone on this device.
            </span>
            <button type="button" className="small" onClick={() => void dismiss(r.mid)}>
              Dismiss
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
