import { Decoder, Encoder, PacketType } from 'socket.io-parser';
import type { Limits } from '@syncline/protocol';

/**
 * Room for the Socket.IO packet around a message (`42<ack id>["push",…]`) and for a message a
 * little over `maxPayloadBytes`, which is still read and answered with a clear
 * `payload_too_large`. Anything larger is cut off by the transport before it is buffered.
 */
export const FRAME_MARGIN_BYTES = 64 * 1024;

/**
 * The largest frame the transport reads (engine.io's `maxHttpBufferSize`): the protocol's
 * largest legal message, `maxPayloadBytes` (a push of many records is bounded by it too, not
 * by `maxMutationsPerPush × maxRecordBytes`), plus `FRAME_MARGIN_BYTES`. The WebSocket layer
 * refuses a larger frame from its header, before buffering it.
 */
export const maxFrameBytes = (limits: Limits): number => limits.maxPayloadBytes + FRAME_MARGIN_BYTES;

/** Why a frame was refused before decoding; the connection is closed. */
export class FrameRefused extends Error {
  readonly code = 'invalid_message' as const;
  constructor(message: string) {
    super(message);
    this.name = 'FrameRefused';
  }
}

const BINARY_EVENT = String(PacketType.BINARY_EVENT);
const BINARY_ACK = String(PacketType.BINARY_ACK);

/**
 * Socket.IO's decoder, refusing binary: Syncline's messages are JSON text (values are encoded
 * by the value codec), so a packet announcing binary attachments (`BINARY_EVENT`,
 * `BINARY_ACK`) is refused from its first character, before its JSON is parsed or any
 * attachment is buffered, and so is a binary frame. Socket.IO closes the connection when
 * `add` throws. The encoder is Socket.IO's own: the client's default parser reads what it
 * writes, and the client never sends binary.
 */
export class TextOnlyDecoder extends Decoder {
  override add(obj: unknown): void {
    if (typeof obj !== 'string') throw new FrameRefused('binary frames are refused: messages are JSON text');
    const type = obj.charAt(0);
    if (type === BINARY_EVENT || type === BINARY_ACK) {
      throw new FrameRefused('packets with binary attachments are refused: messages are JSON text');
    }
    super.add(obj);
  }
}

/** The `parser` option of the Socket.IO server. */
export const textOnlyParser = { Encoder, Decoder: TextOnlyDecoder };
