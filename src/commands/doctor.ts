import { Command } from 'commander';
import { UserError } from '../errors.js';

export function doctorCommand(): Command {
  return new Command('doctor').description('(being built)').action(() => {
    throw new UserError('doctor is not available yet');
  });
}
