// A container's swarm (overlay) networks as `container inspect` shows them
// in NetworkSettings.Networks, from the cluster view the node last received:
// a plain container on an attachable overlay or a task on its service's
// networks. As dockerd, an overlay endpoint has no gateway (outbound traffic
// leaves by the node's bridge, docker's docker_gwbridge) and the address the
// managers gave it (the one asked for with `--ip`) is also its IPAMConfig;
// its network aliases are its Aliases.
import crypto from 'node:crypto';
import { macFromIp } from '../../system/overlay/allocator.js';
import type { OverlayReply } from './overlay-store.js';

/** The EndpointID of a container on a swarm network: stable, the same in `network inspect` and `container inspect`. */
export function overlayEndpointId(networkId: string, containerId: string): string {
  return crypto.createHash('sha256').update(`${networkId}/${containerId}`).digest('hex');
}

export interface OverlayMember {
  id: string;
  /** Without the leading slash. */
  name: string;
  /** The endpoint prefix in the cluster view: the task id, or `ctr:<container id>` for a plain container. */
  endpointPrefix: string;
  /** The swarm networks it is (to be) on; undefined = those the view lists for it. */
  networkIds?: string[];
}

export function overlaySettings(
  r: OverlayReply | undefined,
  nodeId: string | undefined,
  c: OverlayMember,
  running: boolean,
): Record<string, Record<string, unknown>> {
  if (!r || !nodeId) return {};
  const mine = r.view.endpoints.filter((e) => e.nodeId === nodeId && e.id.startsWith(`${c.endpointPrefix}/`));
  const ids = c.networkIds ?? mine.map((e) => e.networkId);
  const out: Record<string, Record<string, unknown>> = {};
  for (const networkId of ids) {
    const n = r.networks.find((x) => x.Id === networkId);
    if (!n) continue;
    const e = running ? mine.find((x) => x.networkId === networkId) : undefined;
    if (!e) {
      out[n.Name] = { NetworkID: n.Id };
      continue;
    }
    const prefix6 = n.IPAM.Config.find((x) => x.Subnet.includes(':'))?.Subnet.split('/')[1];
    const v6 = e.ip6 && prefix6 ? { GlobalIPv6Address: e.ip6, GlobalIPv6PrefixLen: Number(prefix6) } : {};
    out[n.Name] = {
      IPAMConfig: { IPv4Address: e.ip, ...(v6.GlobalIPv6Address ? { IPv6Address: e.ip6 } : {}) },
      ...(e.aliases?.length ? { Aliases: e.aliases } : {}),
      MacAddress: e.mac ?? macFromIp(e.ip),
      NetworkID: n.Id,
      EndpointID: overlayEndpointId(n.Id, c.id),
      Gateway: '',
      IPAddress: e.ip,
      IPPrefixLen: Number((n.IPAM.Config[0]?.Subnet ?? '/24').split('/')[1]),
      ...v6,
      DNSNames: [c.name, c.id.slice(0, 12), ...(e.aliases ?? [])],
    };
  }
  return out;
}
