// Public surface of berth's compose support.
export { loadProject, loadProjectWithWarnings, type Loaded } from './loader/load.js';
export { ComposeError, type Project, type ServiceConfig, type LoadOptions, type Dict } from './types.js';
export { toConfigModel, renderConfigYaml, renderConfigJson, escapeDollars } from './serialize.js';
