// berth restart: docker's batch output.
import { stopLikeCommand } from '../stopcommand.js';

export const command = stopLikeCommand('restart', 'Restart one or more containers');
