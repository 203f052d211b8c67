import * as z from 'zod';
import { ScopeIdSchema } from '../ids.js';
import { PresenceTabSchema } from './presence-set.js';
import { okResponse } from './response.js';

/**
 * Withdraw one tab's presence from a scope (the tab closed the view, or the page is going
 * away). Every watcher is told at once. A socket that disconnects leaves all its entries.
 */
export const PresenceLeaveRequestSchema = z.strictObject({ scope: ScopeIdSchema, tab: PresenceTabSchema });
/** The TypeScript type of `PresenceLeaveRequestSchema`. */
export type PresenceLeaveRequest = z.infer<typeof PresenceLeaveRequestSchema>;

/** The answer to `presence_leave` (also when there was no such entry). */
export const PresenceLeaveResponseSchema = okResponse({});
/** The TypeScript type of `PresenceLeaveResponseSchema`. */
export type PresenceLeaveResponse = z.infer<typeof PresenceLeaveResponseSchema>;
