// berth stop: docker's batch output.
import { stopLikeCommand } from '../stopcommand.js';

export const command = stopLikeCommand('stop', 'Stop one or more running containers');
