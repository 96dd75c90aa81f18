-- wrk script: every request is a successful login of the user run.sh
-- signed up (FLOOD_EMAIL, FLOOD_PASSWORD), so each costs the server one
-- bcrypt verification and a session write.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s"}', os.getenv("FLOOD_EMAIL"), os.getenv("FLOOD_PASSWORD"))
