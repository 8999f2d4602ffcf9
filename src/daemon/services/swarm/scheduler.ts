// Placement: which nodes may run a service's task (ready, active,
// constraints, reservations) and which of them gets the next one (spread
// preferences, then fewest tasks of the service, then fewest tasks overall),
// at most MaxReplicas tasks of a service per node, with swarmkit's
// explanation when no node fits.
import { ApiError } from '../../errors.js';
import { sameSpec, type NodeRecord, type Obj } from './model.js';

export interface Constraint {
  key: string;
  op: '==' | '!=';
  value: string;
}

/** `node.labels.type==db`, `node.role != manager` (swarmkit's constraint grammar). */
export function parseConstraint(s: string): Constraint {
  const m = /^\s*([\w.\-/]+)\s*(==|!=)\s*(.*?)\s*$/.exec(s);
  if (!m || !m[3]) throw new ApiError(400, `constraint expected one operator from ==, !=`);
  const key = m[1]!.toLowerCase().startsWith('node.labels.') || m[1]!.toLowerCase().startsWith('engine.labels.') ? m[1]! : m[1]!.toLowerCase();
  const known = ['node.id', 'node.hostname', 'node.role', 'node.platform.os', 'node.platform.arch'];
  if (!known.includes(key) && !/^(node|engine)\.labels\./.test(key)) throw new ApiError(400, `constraint key "${m[1]}" is not supported`);
  return { key, op: m[2] as '==' | '!=', value: m[3] };
}

function nodeValue(n: NodeRecord, key: string): string | undefined {
  switch (key) {
    case 'node.id':
      return n.ID;
    case 'node.hostname':
      return n.Description?.Hostname;
    case 'node.role':
      return n.Spec.Role;
    case 'node.platform.os':
      return n.Description?.Platform?.OS;
    case 'node.platform.arch':
      return n.Description?.Platform?.Architecture;
  }
  if (key.startsWith('node.labels.')) return n.Spec.Labels?.[key.slice('node.labels.'.length)];
  if (key.startsWith('engine.labels.')) return n.Description?.Engine?.Labels?.[key.slice('engine.labels.'.length)];
  return undefined;
}

export function satisfies(n: NodeRecord, constraints: Constraint[]): boolean {
  return constraints.every((c) => {
    const v = nodeValue(n, c.key);
    // Values compare case-insensitively except labels, as swarmkit does.
    const eq = c.key.includes('.labels.') ? v === c.value : v?.toLowerCase() === c.value.toLowerCase();
    return c.op === '==' ? eq : !eq;
  });
}

const plural = (n: number) => `${n} node${n === 1 ? '' : 's'}`;

export interface Candidate {
  node: NodeRecord;
  ready: boolean;
}

/** Nodes that pass every filter but MaxReplicas, and how many nodes each filter turned away (swarmkit's pipeline order). */
export interface Eligibility {
  nodes: NodeRecord[];
  failures: Array<[reason: string, nodes: number]>;
  /** The explanation when none of `nodes` may take the task. */
  explain: string;
}

/** swarmkit's Pipeline.Explain: each filter's reason, the filters that turned away most nodes first. */
function explainFailures(failures: Array<[string, number]>): string {
  // A stable sort, as swarmkit's (insertion sort on so few filters).
  const parts = failures.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([r]) => r);
  return `no suitable node (${parts.join('; ')})`;
}

/** Nodes that may take a new task of this template, or swarmkit's reason why none may. */
export function eligibleNodes(template: Obj, candidates: Candidate[]): Eligibility {
  const constraints = ((template.Placement?.Constraints ?? []) as string[]).map(parseConstraint);
  const memWant = Number(template.Resources?.Reservations?.MemoryBytes ?? 0);
  const cpuWant = Number(template.Resources?.Reservations?.NanoCPUs ?? 0);
  let notReady = 0;
  let noRes = 0;
  let noConstraint = 0;
  const ok: NodeRecord[] = [];
  for (const c of candidates) {
    if (!c.ready || c.node.Spec.Availability !== 'active') notReady++;
    else if ((memWant && memWant > Number(c.node.Description?.Resources?.MemoryBytes ?? Infinity)) || (cpuWant && cpuWant > Number(c.node.Description?.Resources?.NanoCPUs ?? Infinity))) noRes++;
    else if (!satisfies(c.node, constraints)) noConstraint++;
    else ok.push(c.node);
  }
  const failures: Array<[string, number]> = [
    [`${plural(notReady)} not available for new tasks`, notReady],
    [`insufficient resources on ${plural(noRes)}`, noRes],
    [`scheduling constraints not satisfied on ${plural(noConstraint)}`, noConstraint],
  ];
  return { nodes: ok, failures, explain: explainFailures(failures) };
}

/** swarmkit's MaxReplicasFilter explanation (it names no node count). */
export const MAX_REPLICAS_EXPLAIN = 'max replicas per node limit exceed';

/**
 * The node for the next task of the template: an eligible node that runs
 * fewer than Placement.MaxReplicas of the service's tasks (swarmkit's
 * MaxReplicasFilter, the last of its filters), chosen by pickNode; or,
 * when there is none, swarmkit's explanation.
 */
export function placeTask(
  template: Obj,
  elig: Eligibility,
  ofService: Map<string, number>,
  total: Map<string, number>,
  prefs: string[] = [],
): { node?: NodeRecord; explain: string } {
  const max = Number(template.Placement?.MaxReplicas ?? 0);
  const under = max > 0 ? elig.nodes.filter((n) => (ofService.get(n.ID) ?? 0) < max) : elig.nodes;
  const node = pickNode(under, ofService, total, prefs);
  if (node) return { node, explain: '' };
  const full = elig.nodes.length - under.length;
  return { explain: full ? explainFailures([...elig.failures, [MAX_REPLICAS_EXPLAIN, full]]) : elig.explain };
}

/**
 * Whether a task whose spec differs from the template only in Placement may
 * stay where it is: swarmkit's IsTaskDirtyPlacementConstraintsOnly with
 * nodeMatches (a placement change alone restarts no task whose node still
 * fits; a task without a node is rescheduled with the new placement anyway).
 */
export function onlyPlacementChanged(taskSpec: Obj | undefined, template: Obj, node: NodeRecord | undefined): boolean {
  if (!node) return false;
  const constraints = ((template.Placement?.Constraints ?? []) as string[]).map(parseConstraint);
  if (!satisfies(node, constraints)) return false;
  const a = { ...(taskSpec ?? {}) };
  const b = { ...template };
  delete a.Placement;
  delete b.Placement;
  return sameSpec(a, b);
}

/** The spread descriptors of a template's placement preferences (`node.labels.zone`, …). */
export function spreadPrefs(template: Obj): string[] {
  return ((template.Placement?.Preferences ?? []) as Obj[]).map((p) => p.Spread?.SpreadDescriptor).filter((d): d is string => typeof d === 'string' && d !== '');
}

/**
 * The node for the next task. Spread preferences come first, as in
 * swarmkit's tree of branches: at each level the branch (nodes sharing the
 * descriptor's value, nodes without it making one more branch) with the
 * fewest tasks of the service wins; then the node with the fewest tasks of
 * the service, then fewest overall, then by ID.
 */
export function pickNode(nodes: NodeRecord[], ofService: Map<string, number>, total: Map<string, number>, prefs: string[] = []): NodeRecord | undefined {
  const keys = new Map<string, string[]>();
  for (const n of nodes) {
    const path: string[] = [];
    keys.set(n.ID, prefs.map((p) => (path.push(nodeValue(n, p) ?? '\u0000'), JSON.stringify(path))));
  }
  const branch = new Map<string, number>();
  for (const n of nodes) for (const k of keys.get(n.ID)!) branch.set(k, (branch.get(k) ?? 0) + (ofService.get(n.ID) ?? 0));
  const byBranch = (a: NodeRecord, b: NodeRecord) => {
    const ka = keys.get(a.ID)!;
    const kb = keys.get(b.ID)!;
    for (let i = 0; i < ka.length; i++) {
      const d = branch.get(ka[i]!)! - branch.get(kb[i]!)!;
      if (d) return d;
    }
    return 0;
  };
  return [...nodes].sort((a, b) => byBranch(a, b) || (ofService.get(a.ID) ?? 0) - (ofService.get(b.ID) ?? 0) || (total.get(a.ID) ?? 0) - (total.get(b.ID) ?? 0) || (a.ID < b.ID ? -1 : 1))[0];
}
