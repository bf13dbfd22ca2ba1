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
