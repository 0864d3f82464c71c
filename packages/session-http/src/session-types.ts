/**
 * The types of `data` and user info in the plugins' sessions: `JsonValue`
 * unless the application says otherwise, once, by declaration merging:
 *
 *     declare module "@multisession/session-http" {
 *       interface SessionTypes {
 *         data: { theme: "light" | "dark" };
 *         userInfo: { name: string };
 *       }
 *     }
 *
 * Then `request.session.data`, `userInfo` and the login helpers' `data` and
 * `userInfo` are typed in both plugins, as a `SessionStore<Data, UserInfo>`
 * types them. Like the store's type parameters, this is a promise the
 * application makes about what it stores; nothing checks it at run time.
 */
import type { CreatedSession, JsonValue, Session } from "@multisession/session-core";

// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, for applications to augment
export interface SessionTypes {}

export type SessionData = SessionTypes extends { data: infer Data } ? Data : JsonValue;
export type SessionUserInfo = SessionTypes extends { userInfo: infer UserInfo } ? UserInfo : JsonValue;
/** A session with the application's `data` and user info types. */
export type TypedSession = Session<SessionData, SessionUserInfo>;
/** A created session with the application's `data` and user info types. */
export type TypedCreatedSession = CreatedSession<SessionData, SessionUserInfo>;
