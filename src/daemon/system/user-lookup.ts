/**
 * Resolve a Docker `User` string ("name", "uid", "name:group", "uid:gid")
 * against the container's own /etc/passwd and /etc/group, with the rules and
 * error texts of moby/sys/user (what dockerd uses), and read those files
 * without letting symlinks inside the image reach the host.
 *
 * Only for a rootfs no container runs in yet (create time): a running
 * container could swap a path component between our check and our read.
 */
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

const MAX_SYMLINKS = 255;
const MAX_ID = 2147483647;

/**
 * Join `unsafePath` onto `root` the way it would resolve with `root` as "/":
 * `..` stops at root and symlinks (absolute ones relative to root) are
 * followed inside it. Components that do not exist are joined as they are.
 */
export async function secureJoin(root: string, unsafePath: string): Promise<string> {
  root = path.resolve(root);
  let pending = unsafePath.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, comp);
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
    if (!isLink) {
      resolved.push(comp);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw Object.assign(new Error(`too many levels of symbolic links: ${unsafePath}`), { code: 'ELOOP' });
    }
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
  }
  return path.join(root, ...resolved);
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const parseId = (s: string | undefined): number => {
  // moby parses with Atoi and ignores failures, leaving 0.
  const n = Number.parseInt(s ?? '', 10);
  return Number.isFinite(n) && /^[+-]?\d+$/.test(s ?? '') ? n : 0;
};

const lines = (content: string) =>
  content
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

export function parsePasswd(content: string): PasswdEntry[] {
  return lines(content).map((l) => {
    const f = l.split(':');
    return { name: f[0] ?? '', uid: parseId(f[2]), gid: parseId(f[3]), home: f[5] ?? '', shell: f[6] ?? '' };
  });
}

export function parseGroup(content: string): GroupEntry[] {
  return lines(content).map((l) => {
    const f = l.split(':');
    const list = f[3] ?? '';
    return { name: f[0] ?? '', gid: parseId(f[2]), members: list === '' ? [] : list.split(',') };
  });
}

/** Content of a file inside the rootfs, or undefined when it does not exist. */
async function readInRoot(rootfs: string, p: string): Promise<string | undefined> {
  const host = await secureJoin(rootfs, p);
  try {
    return await readFile(host, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

const isNumeric = (s: string) => /^[+-]?\d+$/.test(s);
const rangeError = () => new Error('uids and gids must be in range 0-2147483647');

export interface ExecUser {
  uid: number;
  gid: number;
  /** Supplementary groups found in /etc/group for a named user (implicit group form only). */
  sgids: number[];
  home: string;
}

/**
 * moby/sys/user GetExecUser semantics. `passwd`/`group` undefined means the
 * file does not exist, which allows only numeric ids.
 */
export function getExecUser(spec: string, passwd: string | undefined, group: string | undefined): ExecUser {
  const colon = spec.indexOf(':');
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  // A third field ("a:b:c") is dropped, as moby's line parser does.
  const groupArg = colon < 0 ? '' : spec.slice(colon + 1).split(':')[0]!;
  const out: ExecUser = { uid: 0, gid: 0, sgids: [], home: '' };

  const users = passwd === undefined ? [] : parsePasswd(passwd);
  const uidArg = isNumeric(userArg) ? Number(userArg) : undefined;
  const matched = users.find((u) =>
    userArg === '' ? u.uid === out.uid : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  let matchedName = '';
  if (matched) {
    matchedName = matched.name;
    out.uid = matched.uid;
    out.gid = matched.gid;
    out.home = matched.home;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw new Error(`unable to find user ${userArg}: no matching entries in passwd file`);
    if (uidArg < 0 || uidArg > MAX_ID) throw rangeError();
    out.uid = uidArg;
  }

  if (groupArg !== '' || matchedName !== '') {
    const groups = group === undefined ? [] : parseGroup(group);
    const gidArg = isNumeric(groupArg) ? Number(groupArg) : undefined;
    const found = groups.filter((g) =>
      groupArg === '' ? g.members.includes(matchedName) : gidArg !== undefined ? g.gid === gidArg : g.name === groupArg,
    );
    if (groupArg !== '') {
      if (found.length > 0) {
        out.gid = found[0]!.gid;
      } else {
        if (gidArg === undefined) throw new Error(`unable to find group ${groupArg}: no matching entries in group file`);
        if (gidArg < 0 || gidArg > MAX_ID) throw rangeError();
        out.gid = gidArg;
      }
    } else if (found.length > 0) {
      out.sgids = found.map((g) => g.gid);
    }
  }
  return out;
}

/** moby/sys/user GetAdditionalGroups: names or numeric ids, deduplicated. */
export function getAdditionalGroups(additional: string[], group: string | undefined): number[] {
  const groups = group === undefined ? [] : parseGroup(group);
  const out: number[] = [];
  for (const ag of additional) {
    const g = groups.find((e) => e.name === ag || String(e.gid) === ag);
    let gid: number;
    if (g) {
      gid = g.gid;
    } else {
      if (!isNumeric(ag)) throw new Error(`Unable to find group ${ag}: no matching entries in group file`);
      gid = Number(ag);
      if (gid < 0 || gid > MAX_ID) throw rangeError();
    }
    if (!out.includes(gid)) out.push(gid);
  }
  return out;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Primary gid first, then the user's supplementary groups, then GroupAdd (dockerd's order). */
  additionalGids: number[];
  /** Home from passwd, "/" when there is none. */
  home: string;
}

/** Resolve `user` (and HostConfig.GroupAdd) inside `rootfs` as dockerd does. */
export async function lookupUser(rootfs: string, user: string | undefined, groupAdd: string[] = []): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([readInRoot(rootfs, '/etc/passwd'), readInRoot(rootfs, '/etc/group')]);
  const eu = getExecUser(user ?? '', passwd, group);
  const extra = groupAdd.length > 0 ? getAdditionalGroups(groupAdd, group) : [];
  return {
    uid: eu.uid,
    gid: eu.gid,
    additionalGids: [eu.gid, ...eu.sgids, ...extra],
    home: eu.home || '/',
  };
}
