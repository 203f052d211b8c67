import { createServer, type Server, type Socket } from 'node:net';
import { connectUpstream } from './tcp-proxy.js';
import type { AddressInfo } from 'node:net';

/** `up`: client → server; `down`: server → client. */
export type Direction = 'up' | 'down';

/** Faults applied to each WebSocket data frame of one direction (probabilities 0–1). */
export interface FrameFaults {
  readonly drop: number;
  readonly duplicate: number;
  /** Extra delay of a frame, uniform in [0, delayMs]; order is kept (as TCP keeps it). */
  readonly delayMs: number;
}

export interface FaultStats {
  frames: number;
  dropped: number;
  duplicated: number;
  delayed: number;
}

/**
 * A proxy on 127.0.0.1 that understands WebSocket framing (what Socket.IO's `websocket`
 * transport sends): after the HTTP upgrade it forwards whole frames, and can drop, delay or
 * duplicate data frames, or cut one direction (half-open: that direction is swallowed while the
 * other flows), each per direction and seeded. Control frames (close, ping, pong) always pass.
 */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly stats: Readonly<FaultStats>;
  /** Sets the frame faults of a direction (unset fields: none). */
  set(direction: Direction, faults: Partial<FrameFaults>): void;
  /** Half-open link: frames in `direction` are swallowed; the other direction keeps flowing. */
  cut(direction: Direction): void;
  /** Clears faults and cuts; connections that were cut are closed (as a dead link ends). */
  heal(): void;
  close(): Promise<void>;
}

const NONE: FrameFaults = { drop: 0, duplicate: 0, delayMs: 0 };

/** The length of the first complete WebSocket frame in `buf`, or 0 when it is incomplete. */
export function frameLength(buf: Buffer): number {
  if (buf.length < 2) return 0;
  const masked = (buf[1]! & 0x80) !== 0;
  let len = buf[1]! & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return 0;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return 0;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  const total = off + (masked ? 4 : 0) + len;
  return buf.length >= total ? total : 0;
}

export async function startFaultProxy(targetUrl: string, random: () => number): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const faults: Record<Direction, FrameFaults> = { up: NONE, down: NONE };
  const cut: Record<Direction, boolean> = { up: false, down: false };
  const stats: FaultStats = { frames: 0, dropped: 0, duplicated: 0, delayed: 0 };
  const sockets = new Set<Socket>();

  /** Forwards `from` to `to` in `direction`: HTTP head verbatim, then frame by frame. */
  const pipe = (from: Socket, to: Socket, direction: Direction) => {
    let head = true;
    let buf = Buffer.alloc(0);
    let chain = Promise.resolve();
    let releaseAt = 0;
    const send = (frame: Buffer) => {
      if (!to.destroyed) to.write(frame);
    };
    from.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        send(buf.subarray(0, end + 4));
        buf = buf.subarray(end + 4);
        head = false;
      }
      for (let len = frameLength(buf); len > 0; len = frameLength(buf)) {
        const frame = Buffer.from(buf.subarray(0, len));
        buf = buf.subarray(len);
        const control = (frame[0]! & 0x0f) >= 8;
        if (cut[direction]) continue;
        if (control) {
          chain = chain.then(() => send(frame));
          continue;
        }
        stats.frames++;
        const f = faults[direction];
        if (random() < f.drop) {
          stats.dropped++;
          continue;
        }
        const copies = random() < f.duplicate ? 2 : 1;
        if (copies === 2) stats.duplicated++;
        const delay = f.delayMs > 0 ? random() * f.delayMs : 0;
        if (delay > 0) stats.delayed++;
        // Release times never go backwards: a delayed frame holds back the ones after it.
        releaseAt = Math.max(releaseAt, Date.now() + delay);
        const at = releaseAt;
        chain = chain.then(async () => {
          const wait = at - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          for (let i = 0; i < copies; i++) send(frame);
        });
      }
    });
  };

  const server: Server = createServer((client) => {
    const upstream = connectUpstream(client, target, sockets);
    pipe(client, upstream, 'up');
    pipe(upstream, client, 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    set: (direction, f) => {
      faults[direction] = { ...NONE, ...f };
    },
    cut: (direction) => {
      cut[direction] = true;
    },
    heal: () => {
      const wasCut = cut.up || cut.down;
      faults.up = faults.down = NONE;
      cut.up = cut.down = false;
      if (wasCut) for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
