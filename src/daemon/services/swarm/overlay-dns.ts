// Service discovery for swarm tasks, answered by the embedded DNS from the
// cluster view the node last received: on a network the asking task shares
// with a service, `<service>` (or an alias) is the service's VIP — or its
// task IPs with `--endpoint-mode dnsrr` — and `tasks.<service>` its task IPs;
// a task's container name (`<service>.<slot>.<task id>`) is its IP there, as
// are a plain container's name and network aliases (IPv4, and IPv6 on a
// dual-stack network).
// The ingress network resolves nothing, as in docker.
import type { OverlayReply } from './overlay-store.js';

/** An endpoint's addresses: IPv4, and IPv6 on a dual-stack network (the DNS answers each for its record type). */
const addrs = (e: { ip: string; ip6?: string }) => (e.ip6 ? [e.ip, e.ip6] : [e.ip]);

export function swarmLookup(r: OverlayReply | undefined, taskId: string, name: string): string[] | undefined {
  if (!r) return undefined;
  const q = name.toLowerCase().replace(/\.$/, '');
  const ingress = new Set(r.networks.filter((n) => n.Ingress).map((n) => n.Id));
  const mine = new Set(r.view.endpoints.filter((e) => e.id.startsWith(`${taskId}/`) && !ingress.has(e.networkId)).map((e) => e.networkId));
  if (!mine.size) return undefined;
  const tasksOf = (serviceId: string, networkId: string) =>
    r.view.endpoints.filter((e) => e.serviceId === serviceId && e.networkId === networkId && e.ready !== false).flatMap(addrs).sort();
  const out: string[] = [];
  const add = (ips: string[]) => ips.forEach((ip) => !out.includes(ip) && out.push(ip));
  const named = (e: { name?: string; aliases?: string[] }) => e.name?.toLowerCase() === q || !!e.aliases?.some((a) => a.toLowerCase() === q);
  add(r.view.endpoints.filter((e) => mine.has(e.networkId) && e.ready !== false && named(e)).flatMap(addrs));
  if (out.length) return out;
  for (const s of r.services) {
    const view = r.view.services.find((v) => v.id === s.id);
    for (const net of mine) {
      const names = [s.name, ...(s.aliases[net] ?? [])].map((x) => x.toLowerCase());
      if (!r.view.endpoints.some((e) => e.serviceId === s.id && e.networkId === net) && !view?.vips?.[net]) continue;
      if (names.some((n) => `tasks.${n}` === q)) add(tasksOf(s.id, net));
      else if (names.includes(q)) add(s.mode === 'dnsrr' || !view?.vips?.[net] ? tasksOf(s.id, net) : [view.vips[net]!]);
    }
  }
  return out.length ? out : undefined;
}
