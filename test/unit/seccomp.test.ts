import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { goArch, loadDefaultProfile, parseProfile, seccompFromProfile } from '../../src/daemon/system/seccomp.js';
import type { OciSeccomp } from '../../src/daemon/system/seccomp.js';
import { DEFAULT_CAPABILITIES } from '../../src/daemon/system/oci-spec.js';

function repoAsset(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'assets', 'seccomp-default.json'))) dir = path.dirname(dir);
  return path.join(dir, 'assets', 'seccomp-default.json');
}

const allowed = (s: OciSeccomp, name: string) =>
  s.syscalls!.filter((c) => c.names.includes(name) && c.action === 'SCMP_ACT_ALLOW');

test('default profile on amd64: errno default, x86 arch family', async () => {
  const profile = await loadDefaultProfile(repoAsset());
  const s = seccompFromProfile(profile, DEFAULT_CAPABILITIES, 'amd64', { kernel: '6.1.0' })!;
  assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.defaultErrnoRet, 1);
  assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.ok(allowed(s, 'read').length > 0);
  assert.ok(allowed(s, 'arch_prctl').length > 0, 'amd64-only syscall kept');
  assert.equal(allowed(s, 'riscv_flush_icache').length, 0, 'riscv-only syscall dropped');
});

test('arm64 gets its own arch family and arm-only syscalls', async () => {
  const profile = await loadDefaultProfile(repoAsset());
  const s = seccompFromProfile(profile, DEFAULT_CAPABILITIES, 'arm64', { kernel: '6.1.0' })!;
  assert.deepEqual(s.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(allowed(s, 'set_tls').length > 0);
  assert.equal(allowed(s, 'arch_prctl').length, 0);
});

test('capability-gated syscalls follow the bounding set', async () => {
  const profile = await loadDefaultProfile(repoAsset());
  const plain = seccompFromProfile(profile, DEFAULT_CAPABILITIES, 'amd64', { kernel: '6.1.0' })!;
  assert.equal(allowed(plain, 'unshare').length, 0);
  assert.equal(allowed(plain, 'mount').length, 0);
  // Without SYS_ADMIN, clone is allowed only without namespace flags, and clone3 answers ENOSYS.
  const clone = plain.syscalls!.find((c) => c.names.includes('clone'))!;
  assert.deepEqual(clone.args, [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  const clone3 = plain.syscalls!.find((c) => c.names.includes('clone3'))!;
  assert.equal(clone3.action, 'SCMP_ACT_ERRNO');
  assert.equal(clone3.errnoRet, 38);

  const admin = seccompFromProfile(profile, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], 'amd64', { kernel: '6.1.0' })!;
  assert.ok(allowed(admin, 'unshare').length > 0);
  assert.ok(allowed(admin, 'mount').length > 0);
  assert.equal(admin.syscalls!.filter((c) => c.names.includes('clone3') && c.action === 'SCMP_ACT_ERRNO').length, 0);
  assert.ok(allowed(seccompFromProfile(profile, ['CAP_SYS_PTRACE'], 'amd64', { kernel: '6.1.0' })!, 'kcmp').length > 0);
});

test('minKernel includes depend on the running kernel', async () => {
  const profile = await loadDefaultProfile(repoAsset());
  const old = seccompFromProfile(profile, DEFAULT_CAPABILITIES, 'amd64', { kernel: '4.4.0' })!;
  const recent = seccompFromProfile(profile, DEFAULT_CAPABILITIES, 'amd64', { kernel: '4.8.0-1-amd64' })!;
  assert.equal(allowed(old, 'ptrace').length, 0);
  assert.ok(allowed(recent, 'ptrace').length > 0);
});

test('a custom profile: name, architectures, excludes.minKernel', () => {
  const s = seccompFromProfile(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { name: 'chmod', action: 'SCMP_ACT_ERRNO' },
        { names: ['futex'], action: 'SCMP_ACT_LOG', excludes: { minKernel: '5.0' } },
      ],
    },
    [],
    'amd64',
    { kernel: '6.0' },
  )!;
  assert.deepEqual(s, { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] });
});

test('invalid profiles are refused with moby texts', () => {
  assert.throws(
    () => seccompFromProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ERRNO' }] }, [], 'amd64'),
    { message: "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'" },
  );
  assert.throws(
    () => seccompFromProfile({ defaultAction: 'X', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] }] }, [], 'amd64'),
    { message: /use either 'architectures' or 'archMap'/ },
  );
  assert.throws(() => parseProfile('{nope'), { message: /^Decoding seccomp profile failed: / });
  assert.equal(seccompFromProfile({}, [], 'amd64'), undefined, 'an empty profile disables seccomp');
});

test('goArch maps node arch names', () => {
  assert.equal(goArch('x64'), 'amd64');
  assert.equal(goArch('arm64'), 'arm64');
  assert.equal(goArch('ia32'), '386');
});
