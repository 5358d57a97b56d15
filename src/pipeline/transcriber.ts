import type { Audio } from '../audio/audio.js';
import type { Transcript } from '../writers/index.js';
import type { TranscribeOptions } from './transcribe-files.js';
import type { Log } from '../util/log.js';
import { UserError } from '../errors.js';

/** Turns decoded audio into a transcript; holds whatever stays warm across inputs. */
export interface Transcriber {
  transcribe(audio: Audio, input: string): Promise<Transcript>;
  close(): Promise<void>;
}

export async function createTranscriber(options: TranscribeOptions, log: Log): Promise<Transcriber> {
  void options;
  void log;
  throw new UserError('the model runner is not available in this version yet');
}
