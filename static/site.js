// Site-wide behaviour with no inline handlers (templates carry no inline script).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit")) {
    field.form.submit();
  }
});
