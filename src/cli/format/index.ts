// docker-cli output formatting for berth's CLI.

export { renderList, writeContext, finalFormat, isTable, RowContext, FormatError, type RenderListOptions } from './context.js';
export { tabwrite, displayWidth, DOCKER_TABLE, type TabwriterOptions } from './tabwriter.js';
export { truncateID, ellipsis, goTimeString, goRFC3339 } from './display.js';
export { formatContainers, containerFormat, displayablePorts, ContainerContext, CONTAINER_HEADER, DEFAULT_CONTAINER_TABLE_FORMAT, type FormatContainersOptions, type PortSummary } from './containers.js';
export { formatImages, imageFormat, ImageContext, IMAGE_HEADER, DEFAULT_IMAGE_TABLE_FORMAT, type FormatImagesOptions } from './images.js';
export { formatHistory, historyFormat, HistoryContext, HISTORY_HEADER, type FormatHistoryOptions } from './history.js';
export { formatInspect } from './inspect.js';
