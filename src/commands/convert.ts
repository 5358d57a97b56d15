import { Command } from 'commander';
import { UserError } from '../errors.js';

export function convertCommand(): Command {
  return new Command('convert').description('(being built)').action(() => {
    throw new UserError('convert is not available yet');
  });
}
