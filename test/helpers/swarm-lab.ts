// Several "hosts" on one machine for swarm tests: the network namespaces and
// test bridge of a NetnsLab, with a berthd (TestDaemon) inside each host under
// its own hostname. cleanup() tears down the daemons with their containers,
// then the lab kills whatever is left in the namespaces (etcd members) and
// removes namespaces, veths and bridge — also after a failed test.
import fs from 'node:fs';
import path from 'node:path';
import { NetnsLab } from './netns-lab.js';
import { TestDaemon, until } from './daemon.js';

export interface SwarmHost {
  /** Hostname, as `node ls` shows it: node1, node2, … */
  name: string;
  netns: string;
  addr: string;
  daemon: TestDaemon;
}

export class SwarmLab {
  private lab?: NetnsLab;
  hosts: SwarmHost[] = [];

  async setup(n: number): Promise<void> {
    this.lab = await NetnsLab.create(n, { defaultRoute: true });
    this.hosts = this.lab.hosts.map((h, i) => ({
      name: `node${i + 1}`,
      netns: h.name,
      addr: h.ip,
      daemon: new TestDaemon({ netns: h.name, hostname: `node${i + 1}` }),
    }));
  }

  async startAll(extraArgs: string[] = []): Promise<void> {
    for (const h of this.hosts) await h.daemon.start(extraArgs);
  }

  /**
   * The usual start of a test: `swarm init` on the first host (with `initArgs`), every other
   * host joins it as a worker, and all of them are Ready before this returns.
   */
  async formSwarm(initArgs: string[] = []): Promise<void> {
    const [m, ...workers] = this.hosts;
    if (!m) throw new Error('lab not set up');
    const must = async (h: SwarmHost, args: string[]): Promise<string> => {
      const r = await h.daemon.berth(args);
      if (r.code !== 0) throw new Error(`${h.name}: berth ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    await must(m, ['swarm', 'init', '--advertise-addr', m.addr, '--dispatcher-heartbeat', '1s', ...initArgs]);
    const token = (await must(m, ['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const w of workers) await must(w, ['swarm', 'join', '--token', token, `${m.addr}:2377`]);
    await until(async () => ((await m.daemon.api('GET', '/nodes')).json() as Array<{ Status: { State: string } }>).filter((n) => n.Status.State === 'ready').length === this.hosts.length, 20_000, 300);
  }

  /** The test bridge's own address: the root namespace as the hosts reach it (e.g. for a registry). */
  get gateway(): string {
    if (!this.lab) throw new Error('lab not set up');
    return this.lab.gateway;
  }

  host(name: string): SwarmHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Tears everything down; SWARM_DEBUG=dir first keeps each daemon's log there, for a failure's post-mortem. */
  async cleanup(): Promise<void> {
    const keep = process.env.SWARM_DEBUG;
    if (keep) for (const h of this.hosts) fs.writeFileSync(path.join(keep, `${h.name}.log`), h.daemon.log);
    for (const h of this.hosts) await h.daemon.cleanup().catch(() => undefined);
    await this.lab?.destroy();
  }
}
