import { Command } from 'commander';
import { UserError } from '../errors.js';

export function buildCommand(): Command {
  return new Command('build').description('(being built)').action(() => {
    throw new UserError('build is not available yet');
  });
}
