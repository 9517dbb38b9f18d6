import type { Admission, OperationRequest } from '@tally/platform';
import type { LedgersIntake, LedgersOperationKind } from './intake.js';

/** The intake port as the module's specs see it: admits everything and answers the request it recorded. */
export function recordingIntake(): LedgersIntake<OperationRequest<LedgersOperationKind>> & { readonly recorded: Array<OperationRequest<LedgersOperationKind>> } {
  const recorded: Array<OperationRequest<LedgersOperationKind>> = [];
  return {
    recorded,
    accept: (requests) => {
      recorded.push(...requests);
      return Promise.resolve(requests.map((operation): Admission<OperationRequest<LedgersOperationKind>> => ({ ok: true, operation })));
    },
  };
}
