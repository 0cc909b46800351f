/**
 * The dissection entry point: a frame in, the reused PacketView filled, a Verdict out.
 */
import type { Frame } from '../capture/frame.js';
import { LINK_DISSECTORS, LINK_TRUNCATED, type LinkDissector } from './link.js';
import { dissectEtherType, malformed } from './network.js';
import { PacketView, Verdict } from './packet.js';

/** Returned (not thrown) for a link type no dissector knows: the caller decides how fatal that is. */
export const UNKNOWN_LINK_TYPE = 'unknown_link_type';

export class Dissector {
  readonly view = new PacketView();
  private lastLinkType = -1;
  private lastLink: LinkDissector | undefined;

  constructor(options: { verifyChecksums?: boolean } = {}) {
    this.view.verifyChecksums = options.verifyChecksums ?? false;
  }

  dissect(f: Frame): Verdict {
    const v = this.view;
    v.frame = f.number;
    v.ts = f.ts;
    v.capLen = f.capLen;
    v.origLen = f.origLen;
    v.linkType = f.linkType;
    v.captureIf = f.interfaceId;
    v.data = f.data;
    v.tunnelDepth = 0;
    v.malformed = '';
    v.badChecksum = false;
    v.icmpType = 0;
    // Frames of one capture nearly always share a link type: cache the lookup.
    if (f.linkType !== this.lastLinkType) {
      this.lastLinkType = f.linkType;
      this.lastLink = LINK_DISSECTORS.get(f.linkType);
    }
    const link = this.lastLink;
    if (link === undefined) return malformed(v, UNKNOWN_LINK_TYPE);
    const end = f.offset + f.capLen;
    const etherType = link(v, f.data, f.offset, end);
    if (etherType === LINK_TRUNCATED) return malformed(v, 'truncated_link_header');
    return dissectEtherType(v, f.data, v.ipOffset, end, etherType, 0);
  }
}

export { Verdict };
