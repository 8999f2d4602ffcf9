/**
 * Docker's seccomp profile format → OCI `linux.seccomp`, filtered for the
 * container's capabilities, the host architecture and the running kernel,
 * with the rules of moby's profiles/seccomp.
 */
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface DockerSeccompFilter {
  caps?: string[] | null;
  arches?: string[] | null;
  minKernel?: string | null;
}

export interface DockerSyscall {
  name?: string;
  names?: string[] | null;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: DockerSeccompFilter | null;
  excludes?: DockerSeccompFilter | null;
}

export interface DockerSeccompProfile {
  defaultAction?: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: { architecture: string; subArchitectures: string[] | null }[] | null;
  listenerPath?: string;
  listenerMetadata?: string;
  flags?: string[] | null;
  syscalls?: DockerSyscall[] | null;
}

export interface OciSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  flags?: string[];
  syscalls?: OciSyscall[];
}

/** GOARCH → the libseccomp name profiles use in includes/excludes.arches. */
const GO_TO_NATIVE: Record<string, string> = {
  '386': 'x86',
  amd64: 'amd64',
  arm: 'arm',
  arm64: 'arm64',
  mips64: 'mips64',
  mips64p32: 'mips64n32',
  mips64le: 'mipsel64',
  mips64p32le: 'mips3l64n32',
  mipsle: 'mipsel',
  ppc: 'ppc',
  ppc64: 'ppc64',
  ppc64le: 'ppc64le',
  riscv64: 'riscv64',
  s390: 's390',
  s390x: 's390x',
  loong64: 'loong64',
};

/** libseccomp name → the SCMP_ARCH_* constant an archMap entry is keyed by. */
const NATIVE_TO_SCMP: Record<string, string> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mips3l64n32: 'SCMP_ARCH_MIPSEL64N32',
  mipsle: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
  loong64: 'SCMP_ARCH_LOONGARCH64',
};

/** Node's process.arch as a GOARCH string (the unit `arch` arguments use). */
export function goArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm: 'arm',
    arm64: 'arm64',
    ppc64: 'ppc64le',
    ppc: 'ppc',
    s390x: 's390x',
    s390: 's390',
    riscv64: 'riscv64',
    loong64: 'loong64',
    mips: 'mips',
    mipsel: 'mipsle',
  };
  return map[nodeArch] ?? nodeArch;
}

type KernelVersion = [number, number, number];

function parseKernel(v: string): KernelVersion {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v);
  if (!m) throw new Error(`Can't parse kernel version ${v}`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function kernelAtLeast(current: KernelVersion, min: string): boolean {
  const want = parseKernel(min);
  for (let i = 0; i < 3; i++) {
    if (current[i]! !== want[i]!) return current[i]! > want[i]!;
  }
  return true;
}

export interface SeccompOptions {
  /** Kernel release to evaluate minKernel against; defaults to the running kernel. */
  kernel?: string;
}

/**
 * Convert a docker profile for a container whose bounding set is `caps`
 * (CAP_-prefixed names), on `arch` (GOARCH). Undefined when the profile
 * disables seccomp (no default action and no syscalls).
 */
export function seccompFromProfile(
  profile: DockerSeccompProfile,
  caps: string[],
  arch: string,
  opts: SeccompOptions = {},
): OciSeccomp | undefined {
  const syscalls = profile.syscalls ?? [];
  if (!profile.defaultAction && syscalls.length === 0) return undefined;
  if ((profile.architectures?.length ?? 0) > 0 && (profile.archMap?.length ?? 0) > 0) {
    throw new Error(
      "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  const kernel = parseKernel(opts.kernel ?? release());
  const native = GO_TO_NATIVE[arch] ?? arch;
  const scmpArch = NATIVE_TO_SCMP[native];

  const out: OciSeccomp = { defaultAction: profile.defaultAction ?? '' };
  const architectures: string[] = [...(profile.architectures ?? [])];
  if (scmpArch) {
    const entry = (profile.archMap ?? []).find((a) => a.architecture === scmpArch);
    if (entry) architectures.push(entry.architecture, ...(entry.subArchitectures ?? []));
  }
  if (architectures.length > 0) out.architectures = architectures;
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  if (profile.flags && profile.flags.length > 0) out.flags = [...profile.flags];

  const capSet = new Set(caps);
  const result: OciSyscall[] = [];
  for (const call of syscalls) {
    const ex = call.excludes;
    if (ex) {
      if (ex.arches?.includes(native)) continue;
      if (ex.caps?.some((c) => capSet.has(c))) continue;
      if (ex.minKernel && kernelAtLeast(kernel, ex.minKernel)) continue;
    }
    const inc = call.includes;
    if (inc) {
      if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(native)) continue;
      if (inc.caps?.some((c) => !capSet.has(c))) continue;
      if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) continue;
    }
    let names = [...(call.names ?? [])];
    if (call.name) {
      if (names.length > 0) {
        throw new Error("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
      }
      names = [call.name];
    }
    const sc: OciSyscall = { names, action: call.action };
    if (call.errnoRet !== undefined) sc.errnoRet = call.errnoRet;
    if (call.args && call.args.length > 0) {
      sc.args = call.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }));
    }
    result.push(sc);
  }
  out.syscalls = result;
  return out;
}

/** Parse a profile given inline (`seccomp=<json>`), with dockerd's error text. */
export function parseProfile(body: string): DockerSeccompProfile {
  try {
    const p = JSON.parse(body) as unknown;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new Error('profile is not a JSON object');
    return p as DockerSeccompProfile;
  } catch (err) {
    throw new Error(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
}

/** Read a docker-format profile file (the daemon ships assets/seccomp-default.json). */
export async function loadDefaultProfile(file: string): Promise<DockerSeccompProfile> {
  return parseProfile(await readFile(file, 'utf8'));
}
