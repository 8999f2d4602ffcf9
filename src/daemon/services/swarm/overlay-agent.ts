// This node's overlay data plane in a swarm: on each cluster view the
// managers send (with every heartbeat reply), the node's share of it
// (planNode) is handed to the driver, which changes only what differs. Level-
// triggered: a lost or failed round is made good by the next one.
import crypto from 'node:crypto';
import { errorMessage } from '../../errors.js';
import { OverlayDriver } from '../../system/overlay/driver.js';
import { planNode } from '../../system/overlay/plan.js';
import type { OverlayReply } from './overlay-store.js';

export interface OverlayAgentDeps {
  /**
   * The namespace file of a task's running container on this node for its
   * endpoint on `networkId`; undefined when it has none (yet), or (a plain
   * container, `ctr:<id>`) no longer wants to be on the network.
   */
  netnsOfTask: (taskId: string, networkId: string) => string | undefined;
  /** berthd's iptables chain prefix: the overlay's devices and chains are named after it, so daemons sharing a namespace do not clash. */
  chainPrefix: string;
  log: (level: string, msg: string) => void;
}

/**
 * The overlay's device and chain prefixes for a daemon with iptables chain
 * prefix `chainPrefix`: docker-like `ov`/`OV` for the default one, else
 * derived from it (devices have 6 characters at most), so daemons sharing a
 * namespace keep apart — and whoever cleans up after one finds its names.
 */
export function overlayNames(chainPrefix: string): { devicePrefix: string; chainPrefix: string } {
  if (chainPrefix === 'BERTH') return { devicePrefix: 'ov', chainPrefix: 'OV' };
  const h = crypto.createHash('sha256').update(chainPrefix).digest('hex');
  return { devicePrefix: `o${h.slice(0, 5)}`, chainPrefix: `OV${h.slice(0, 8).toUpperCase()}` };
}

export class OverlayAgent {
  private driver?: OverlayDriver;
  private reconciled = false;
  private applied = '';
  private running?: Promise<void>;
  private last?: OverlayReply;
  private self?: { nodeId: string; advertiseAddr: string };

  constructor(private d: OverlayAgentDeps) {}

  /** The cluster view last received. */
  reply(): OverlayReply | undefined {
    return this.last;
  }


  /** Never throws: it runs inside the heartbeat, which must go on whatever the data plane does. */
  apply(r: OverlayReply | undefined, nodeId: string, advertiseAddr: string): void {
    try {
      this.applyView(r, nodeId, advertiseAddr);
    } catch (e) {
      this.d.log('warn', `swarm: overlay data plane: ${errorMessage(e)}`);
    }
  }

  /**
   * Plans and applies the last view again now, waiting for the driver: a
   * local change (a container leaving a network) shows at once, not only
   * after the next heartbeat.
   */
  async reapply(): Promise<void> {
    await this.running;
    const self = this.self;
    if (!self || !this.last) return;
    this.applyView(this.last, self.nodeId, self.advertiseAddr);
    await this.running;
  }

  /**
   * Waits (at most `timeoutMs`) until endpoint `id` is plugged on this node:
   * the managers give it an address with the next heartbeat, the driver then
   * plugs it. False when that did not happen in time (it still may later).
   */
  async waitForEndpoint(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.driver?.state().endpoints.some((e) => e.id === id)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private applyView(r: OverlayReply | undefined, nodeId: string, advertiseAddr: string): void {
    if (!r) return;
    this.last = r;
    this.self = { nodeId, advertiseAddr };
    if (this.running) return;
    const view = {
      ...r.view,
      endpoints: r.view.endpoints.map((e) => {
        if (e.nodeId !== nodeId) return e;
        const [task, networkId] = e.id.split('/') as [string, string];
        return { ...e, netns: this.d.netnsOfTask(task, networkId) };
      }),
    };
    let state;
    try {
      state = planNode(nodeId, view);
    } catch {
      return; // this node is not in the view yet
    }
    const key = JSON.stringify(state);
    if (key === this.applied) return;
    // The swarm's data-path port is fixed at init, so one driver serves the node's time in the swarm.
    this.driver ??= new OverlayDriver({ advertiseAddr, vxlanPort: r.dataPathPort, ...overlayNames(this.d.chainPrefix) });
    const driver = this.driver;
    const first = !this.reconciled;
    this.running = (first ? driver.reconcile(state) : driver.converge(state))
      .then(() => {
        this.reconciled = true;
        this.applied = key;
      })
      .catch((e) => {
        this.applied = '';
        this.d.log('warn', `swarm: overlay data plane: ${errorMessage(e)}`);
      })
      .finally(() => (this.running = undefined));
  }

  /** Leaving the swarm: every overlay device, endpoint and chain of this node goes. */
  async clear(): Promise<void> {
    await this.running;
    const driver = this.driver;
    this.driver = undefined;
    this.reconciled = false;
    this.applied = '';
    this.last = undefined;
    this.self = undefined;
    await driver?.removeAll();
  }
}
