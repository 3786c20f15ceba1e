// The desk's one way to change something (every page loads it first): a JSON POST with the session's CSRF
// token (the page's body carries it in data-csrf), a signed-out session sent to the sign-in, a refusal thrown
// as an Error worded by the API. Forms marked data-post send their fields to their action this way; the page
// then reloads, or shows the refusal in #error.
"use strict";
window.deskPost = async (url, payload) => {
  const response = await fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(payload ?? {}),
    headers: {"Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf}});
  if (response.status === 401) {
    location.href = `/desk/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    return null;
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({message: response.statusText}));
    throw new Error(problem.detail || problem.message || response.statusText);
  }
  return (response.headers.get("Content-Type") || "").includes("json") ? response.json() : null;
};
document.querySelectorAll("form[data-post]").forEach((form) => form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await window.deskPost(form.action, Object.fromEntries(new FormData(form)));
    location.reload();
  } catch (refusal) {
    document.getElementById("error").textContent = refusal.message;
  }
}));
