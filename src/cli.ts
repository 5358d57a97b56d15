import { Command, CommanderError } from 'commander';
import { EXIT, UserError, formatUserError } from './errors.js';
import { transcribeCommand } from './commands/transcribe.js';
import { buildCommand } from './commands/build.js';
import { modelsCommand } from './commands/models.js';
import { convertCommand } from './commands/convert.js';
import { doctorCommand } from './commands/doctor.js';
import { evalCommand } from './commands/eval.js';
import { readVersion } from './util/version.js';
import { installSignalHandlers } from './util/cleanup.js';
import { fsUserError } from './util/fs-errors.js';
import { watchStdStreams } from './util/std-streams.js';

export function createProgram(): Command {
  const program = new Command('qwen3asr')
    .description('Transcripts and subtitles from any audio or video file, with Qwen3-ASR running locally through llama.cpp.')
    .version(readVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions();
  program.addCommand(transcribeCommand(), { isDefault: true });
  program.addCommand(buildCommand());
  program.addCommand(modelsCommand());
  program.addCommand(convertCommand());
  program.addCommand(doctorCommand());
  program.addCommand(evalCommand());
  return program;
}

function exitOverrides(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(s.startsWith('error:') ? `qwen3asr: ${s.slice(7)}` : s),
  });
  for (const sub of cmd.commands) exitOverrides(sub);
}

function wantsVerbose(argv: string[]): boolean {
  return argv.includes('--verbose') || argv.includes('-v');
}

/** Runs the CLI and resolves to the exit code; never throws for user-facing failures. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  exitOverrides(program);
  const signals = installSignalHandlers();
  watchStdStreams();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return EXIT.ok;
      }
      // commander already printed its one line.
      return EXIT.usage;
    }
    const fsErr = err instanceof UserError ? null : fsUserError(err);
    if (fsErr) err = fsErr;
    if (err instanceof UserError) {
      process.stderr.write(`qwen3asr: ${formatUserError(err)}\n`);
      if (wantsVerbose(argv) && err.cause) process.stderr.write(`${describeCause(err.cause)}\n`);
      return err.exitCode;
    }
    process.stderr.write(`qwen3asr: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    if (wantsVerbose(argv)) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    else process.stderr.write('qwen3asr: run again with --verbose for details, and please report it\n');
    return EXIT.failure;
  } finally {
    await signals.dispose();
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.stack ?? cause.message;
  return String(cause);
}
