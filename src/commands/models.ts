import { Command } from 'commander';
import { UserError } from '../errors.js';

export function modelsCommand(): Command {
  return new Command('models').description('(being built)').action(() => {
    throw new UserError('models is not available yet');
  });
}
