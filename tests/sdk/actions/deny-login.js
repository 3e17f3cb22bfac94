// post-login: users whose e-mail starts with "deny-" may not log in; everyone else gets a
// custom claim.
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.email.startsWith("deny-")) {
    api.access.deny("Access to this application is not allowed.");
    return;
  }
  api.idToken.setCustomClaim("https://portcullis.test/connection", event.connection.name);
};
