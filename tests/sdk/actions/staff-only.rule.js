function staffOnly(user, context, callback) {
  if (user.email.startsWith("rule-")) {
    return callback(new UnauthorizedError("Only staff may log in."));
  }
  callback(null, user, context);
}
