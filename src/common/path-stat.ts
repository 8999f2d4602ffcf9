/**
 * What the `X-Docker-Container-Path-Stat` header carries (docker's
 * container.PathStat), and the Go os.FileMode bits its `mode` uses. Shared
 * by the daemon that writes it and the CLI that reads it.
 */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export const GO_DIR = 2 ** 31;
export const GO_SYMLINK = 2 ** 27;
export const GO_DEVICE = 2 ** 26;
export const GO_PIPE = 2 ** 25;
export const GO_SOCKET = 2 ** 24;
export const GO_SETUID = 2 ** 23;
export const GO_SETGID = 2 ** 22;
export const GO_CHARDEV = 2 ** 21;
export const GO_STICKY = 2 ** 20;
export const GO_IRREGULAR = 2 ** 19;

/** Go's FileMode is a uint32: test bits by division, JS bit operators are signed 32-bit. */
export const hasModeBit = (m: number, bit: number): boolean => Math.floor(m / bit) % 2 === 1;
