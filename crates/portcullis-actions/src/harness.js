// The sandbox's side of an execution: builds Auth0's `api` (Actions) or `context` and
// `callback` (Rules) around the tenant's code, and settles with the outcome as JSON. Only
// JSON crosses into Rust. Nothing here reaches outside the context: no require, no process,
// no file system, no network.
"use strict";
(function (global) {
  const MAX_LOGS = 100;
  const MAX_LOG_LENGTH = 2000;
  const out = {
    deny: null,
    user_metadata: {},
    app_metadata: {},
    id_token_claims: {},
    access_token_claims: {},
    multifactor: null,
    logs: [],
  };
  const text = (value) => {
    if (typeof value === "string") return value;
    try {
      const json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch (e) {
      return String(value);
    }
  };
  const log = (...args) => {
    if (out.logs.length < MAX_LOGS) {
      out.logs.push(args.map(text).join(" ").slice(0, MAX_LOG_LENGTH));
    }
  };
  global.console = Object.freeze({ log, info: log, warn: log, error: log, debug: log });

  class UnauthorizedError extends Error {
    constructor(message) {
      super(message);
      this.name = "UnauthorizedError";
    }
  }
  global.UnauthorizedError = UnauthorizedError;

  function require(name) {
    throw new Error("Cannot find module '" + String(name) + "'");
  }

  // `value` as JSON data (functions, cycles and the like are refused by the caller's parse).
  const data = (value) => (value === undefined ? null : value);

  function makeApi(trigger, cache) {
    const api = {};
    const chain = (f) => (...args) => {
      f(...args);
      return api;
    };
    if (trigger === "pre-user-registration" || trigger === "post-login") {
      api.access = {
        deny: chain((reason, userMessage) => {
          out.deny = {
            reason: String(reason === undefined ? "" : reason),
            user_message: userMessage === undefined ? null : String(userMessage),
          };
        }),
      };
      api.user = {
        setUserMetadata: chain((key, value) => {
          out.user_metadata[String(key)] = data(value);
        }),
        setAppMetadata: chain((key, value) => {
          out.app_metadata[String(key)] = data(value);
        }),
      };
    }
    if (trigger === "post-login") {
      api.idToken = {
        setCustomClaim: chain((key, value) => {
          out.id_token_claims[String(key)] = data(value);
        }),
      };
      api.accessToken = {
        setCustomClaim: chain((key, value) => {
          out.access_token_claims[String(key)] = data(value);
        }),
      };
      api.multifactor = {
        enable: chain((provider) => {
          out.multifactor = String(provider === undefined ? "any" : provider);
        }),
      };
    }
    api.cache = {
      get: (key) => (Object.prototype.hasOwnProperty.call(cache, String(key))
        ? { value: cache[String(key)] }
        : undefined),
      set: (key, value) => {
        cache[String(key)] = String(value);
        return { type: "success" };
      },
      delete: (key) => {
        delete cache[String(key)];
        return { type: "success" };
      },
    };
    return api;
  }

  const finish = (cache) => JSON.stringify(Object.assign(out, { cache }));

  // An Action: a CommonJS module exporting `onExecute<Trigger>(event, api)`.
  global.__portcullisRunAction = function (factory, trigger, handlerName, eventJson, cacheJson) {
    const cache = JSON.parse(cacheJson);
    const module = { exports: {} };
    factory(module.exports, module, require);
    const handler = module.exports && module.exports[handlerName];
    if (typeof handler !== "function") {
      return Promise.resolve(finish(cache));
    }
    const event = JSON.parse(eventJson);
    const api = makeApi(trigger, cache);
    return Promise.resolve()
      .then(() => handler(event, api))
      .then(() => finish(cache));
  };

  // A Rule: `function (user, context, callback)`, done when it calls back.
  global.__portcullisRunRule = function (rule, eventJson) {
    const event = JSON.parse(eventJson);
    global.configuration = Object.freeze(event.configuration || {});
    // The part of Rules' `auth0` object that changes the user: its metadata.
    const replace = (target) => (userId, metadata) => {
      for (const key of Object.keys(target)) delete target[key];
      Object.assign(target, metadata || {});
      return Promise.resolve();
    };
    global.auth0 = Object.freeze({
      users: Object.freeze({
        updateUserMetadata: replace(out.user_metadata),
        updateAppMetadata: replace(out.app_metadata),
      }),
    });
    const context = event.context || {};
    context.idToken = context.idToken || {};
    context.accessToken = context.accessToken || {};
    return new Promise((resolve, reject) => {
      let called = false;
      const callback = (error, user, ctx) => {
        if (called) return;
        called = true;
        if (error) {
          out.deny = {
            reason: String(error && error.message !== undefined ? error.message : error),
            user_message: null,
            unauthorized: error instanceof UnauthorizedError,
          };
          resolve(finish({}));
          return;
        }
        const result = ctx || context;
        Object.assign(out.id_token_claims, result.idToken || {});
        Object.assign(out.access_token_claims, result.accessToken || {});
        if (result.multifactor && result.multifactor.provider) {
          out.multifactor = String(result.multifactor.provider);
        }
        resolve(finish({}));
      };
      try {
        rule(event.user || {}, context, callback);
      } catch (e) {
        reject(e);
      }
    });
  };
})(globalThis);
