// Why a closed run did not complete, read from its history (for `status` and `report`).
import type { WorkflowHandle } from '@temporalio/client';

/** The reason a closed run did not complete, from its history's closing event (causes chained). */
export async function failureOf(handle: WorkflowHandle): Promise<string | undefined> {
  const history = await handle.fetchHistory();
  for (const e of [...(history.events ?? [])].reverse()) {
    const failure =
      e.workflowExecutionFailedEventAttributes?.failure ??
      e.workflowExecutionTimedOutEventAttributes ??
      undefined;
    if (e.workflowExecutionTerminatedEventAttributes)
      return `terminated${e.workflowExecutionTerminatedEventAttributes.reason ? `: ${e.workflowExecutionTerminatedEventAttributes.reason}` : ''}`;
    if (e.workflowExecutionCanceledEventAttributes) return 'cancelled';
    if (e.workflowExecutionTimedOutEventAttributes) return 'timed out (workflow execution timeout)';
    if (failure && 'message' in failure) {
      const chain: string[] = [];
      for (let f: typeof failure | null | undefined = failure; f && chain.length < 5; f = f.cause)
        if (f.message) chain.push(f.message);
      return chain.join(': ');
    }
  }
  return undefined;
}
