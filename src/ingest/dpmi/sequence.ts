import { SENDER_FLUSH, SEQUENCE_MODULUS } from './layout.js';

/** How far behind the newest frame a late frame is still told from a duplicate. */
const WINDOW = 32;

export interface SequenceCounters {
  lostFrames: number;
  duplicateFrames: number;
  reorderedFrames: number;
  sequenceResets: number;
}

export const enum SequenceVerdict { Accept, Duplicate, OutOfRange }

/**
 * The sequence numbers of one sender's measurement frames (native/dpmi_unpack.h,
 * DpmiSequenceTracker, applies the same rules to live frames: both must agree).
 * The reference MP counts (seq + 1) mod 0xFFFF, so 0xFFFE is followed by 0 (a sender
 * that does send 0xFFFF is accepted, that frame untracked). The frame after one flagged
 * SENDER_FLUSH starts a new sequence: a restart, not a loss. A frame up to WINDOW
 * behind the newest is a duplicate or a late (reordered) frame, told apart by a bitmap;
 * a late frame takes back the loss its gap counted. Further behind: a restart without
 * a flush (the sender crashed), counted as a reset.
 */
export class SequenceWindow {
  private seen = false;
  private flushed = false;
  private highest = 0;
  /** Bit k: frame highest − k was seen. */
  private window = 0;
  /** Frames of this sequence the window covers (≤ WINDOW): older bits mean nothing. */
  private span = 0;

  accept(seq: number, flags: number, c: SequenceCounters): SequenceVerdict {
    if (seq > SEQUENCE_MODULUS) return SequenceVerdict.OutOfRange;
    if (seq === SEQUENCE_MODULUS) return SequenceVerdict.Accept;
    const flush = (flags & SENDER_FLUSH) !== 0;
    if (!this.seen) { this.seen = true; this.restart(seq, flush); return SequenceVerdict.Accept; }
    const ahead = (seq + SEQUENCE_MODULUS - this.highest) % SEQUENCE_MODULUS;
    if (ahead === 0) { c.duplicateFrames++; return SequenceVerdict.Duplicate; }
    if (this.flushed) { c.sequenceResets++; this.restart(seq, flush); return SequenceVerdict.Accept; }
    if (ahead < SEQUENCE_MODULUS / 2) {
      c.lostFrames += ahead - 1;
      this.window = ahead >= WINDOW ? 1 : ((this.window << ahead) | 1) >>> 0;
      this.span = Math.min(WINDOW, this.span + ahead);
      this.highest = seq;
      this.flushed = flush;
      return SequenceVerdict.Accept;
    }
    const behind = SEQUENCE_MODULUS - ahead;
    if (behind < this.span) {
      const bit = (1 << behind) >>> 0;
      if ((this.window & bit) !== 0) { c.duplicateFrames++; return SequenceVerdict.Duplicate; }
      this.window = (this.window | bit) >>> 0;
      if (c.lostFrames > 0) c.lostFrames--;
      c.reorderedFrames++;
      return SequenceVerdict.Accept;
    }
    if (behind < WINDOW) { c.reorderedFrames++; return SequenceVerdict.Accept; } // older than the first frame seen
    c.sequenceResets++;
    this.restart(seq, flush);
    return SequenceVerdict.Accept;
  }

  private restart(seq: number, flush: boolean): void {
    this.highest = seq;
    this.window = 1;
    this.span = 1;
    this.flushed = flush;
  }
}
