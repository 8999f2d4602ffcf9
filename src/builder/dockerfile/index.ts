// The Dockerfile frontend: parse text to an AST, then to typed instructions and stages.
export { dumpAst, nodeArgs, type Heredoc, type Node } from './ast.js';
export { DockerfileParseError, InstructionError } from './errors.js';
export { parseDockerfile, astRoot, type Directive, type ParseResult, type ParseWarning } from './parser.js';
export { ShellLex, ShellLexError, buildEnvs, type Env, type LexOptions, type ProcessResult } from './shell-lex.js';
export { chompHeredocContent, parseHeredoc } from './heredoc.js';
export { parseMount, type Mount, type MountType } from './run-mount.js';
export { parseDevice, type Device } from './run-device.js';
export * from './instructions.js';
