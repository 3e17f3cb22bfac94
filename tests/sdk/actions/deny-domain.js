// pre-user-registration: no sign-ups from denied.example.
exports.onExecutePreUserRegistration = async (event, api) => {
  if (event.user.email.endsWith("@denied.example")) {
    api.access.deny("domain_not_allowed", "Sign-ups from this domain are not allowed.");
  }
};
