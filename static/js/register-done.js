// LTI Dynamic Registration §3.7: tell the platform the registration is complete.
(window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
