// Small progressive enhancements; every page works without this file.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  const status = button.parentElement.querySelector(".copy-status");
  // A list (recovery codes) is copied one item a line.
  const text = source.matches("ul, ol")
    ? [...source.querySelectorAll("li")].map((item) => item.textContent.trim()).join("\n")
    : source.textContent.trim();
  try {
    await navigator.clipboard.writeText(text);
    if (status) status.textContent = "Copied.";
  } catch (error) {
    if (status) status.textContent = button.dataset.copyFailed || "Select the Client ID and copy it with your keyboard.";
  }
});

// Create a Tenant Reseller: the password fields are not needed when the administrator is
// invited instead, so they are hidden while the invitation box is ticked.
function syncAdminInvite() {
  const invite = document.getElementById("admin_invite");
  const fields = document.getElementById("admin-password-fields");
  if (!invite || !fields) return;
  fields.hidden = invite.checked;
}
document.addEventListener("change", (event) => {
  if (event.target.id === "admin_invite") syncAdminInvite();
});
document.addEventListener("DOMContentLoaded", syncAdminInvite);
