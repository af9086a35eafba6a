// Submit forms marked data-autosubmit (OIDC form_post, deep-linking response) without
// inline script, so the Content-Security-Policy can forbid inline JS.
document.querySelectorAll("form[data-autosubmit]").forEach((form) => form.submit());
