import { spawn } from 'node:child_process';

/**
 * Runs `cmd` on a real pseudo-terminal (util-linux `script`), typing `lines`
 * one by one; resolves to everything the terminal showed and the exit code.
 */
export function inPty(cmd: string, lines: string[], env: NodeJS.ProcessEnv): Promise<{ out: string; code: number }> {
  return new Promise((resolve, reject) => {
    // `script` gives the command a pty of size 0x0; set a real one so the resize path is exercised.
    const child = spawn('script', ['-qefc', `stty rows 40 cols 100; exec ${cmd}`, '/dev/null'], { env: { ...process.env, ...env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pty session timed out; output so far:\n${out}`));
    }, 30_000);
    let i = 0;
    const typeNext = () => {
      if (i < lines.length) {
        child.stdin.write(lines[i++]!);
        setTimeout(typeNext, 400);
      }
    };
    setTimeout(typeNext, 1500);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ out, code: code ?? -1 });
    });
  });
}
