/** Every scenario of the lab, in the order `lab list` and `lab run --all` use. */
import type { Scenario } from '../scenario.js';
import { closeUnreadData } from './close-unread-data.js';
import { closedPort } from './closed-port.js';
import { lingerZeroAbort } from './linger-zero-abort.js';
import { readAfterRst } from './read-after-rst.js';
import { writeAfterPeerClose } from './write-after-peer-close.js';
import { writeAfterShutdown } from './write-after-shutdown.js';
import { linger2FinWait2Abort } from './linger2-fin-wait2-abort.js';
import { keepaliveTimeout } from './keepalive-timeout.js';
import { synDroppedConnectTimeout } from './syn-dropped-connect-timeout.js';
import { userTimeout } from './user-timeout.js';
import { mtuBlackHole } from './mtu-black-hole.js';
import { firewallReset } from './firewall-reset.js';
import { halfOpen } from './half-open.js';
import { challengeAck } from './challenge-ack.js';
import { timeWaitAssassination } from './time-wait-assassination.js';
import { closeWaitPortReuse } from './close-wait-port-reuse.js';
import { acceptOverflow } from './accept-overflow.js';
import { acceptQueueSlowConnect } from './accept-queue-slow-connect.js';
import { zeroWindow } from './zero-window.js';

export const SCENARIOS: readonly Scenario[] = [
  closedPort(4),
  closeUnreadData(4),
  lingerZeroAbort,
  writeAfterPeerClose,
  writeAfterShutdown,
  readAfterRst,
  linger2FinWait2Abort,
  keepaliveTimeout,
  synDroppedConnectTimeout,
  userTimeout,
  mtuBlackHole,
  firewallReset,
  halfOpen,
  challengeAck,
  timeWaitAssassination(false),
  timeWaitAssassination(true),
  closeWaitPortReuse,
  acceptOverflow(false),
  acceptOverflow(true),
  acceptQueueSlowConnect,
  zeroWindow,
  closedPort(6),
  closeUnreadData(6),
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
