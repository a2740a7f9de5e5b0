/* Pictures on replies (MMS): the composer's file input. The server checks the picture again
   (type by its first bytes, size); this only tells the agent at once and lets a picture go
   without text. No inline script or style: the CSP allows neither. */
(function () {
  "use strict";

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function setup(input) {
    const status = document.querySelector(input.dataset.attachStatus);
    const box = document.querySelector(input.dataset.attachFor);
    const max = Number(input.dataset.maxBytes);
    const show = () => {
      const file = input.files && input.files[0];
      let text = "";
      if (file && file.size > max) {
        text = file.name + " is " + megabytes(file.size) + "; pictures can be at most " + megabytes(max) + ".";
        input.value = "";
      } else if (file) {
        text = "📷 " + file.name + " (" + megabytes(file.size) + ") goes with the reply as one MMS.";
      }
      if (status) status.textContent = text;
      if (box) box.required = !(input.files && input.files.length);  // a picture alone is a reply
    };
    input.addEventListener("change", show);
    input.form?.addEventListener("smsdesk:sent", () => { input.value = ""; show(); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[type=file][data-attach]").forEach(setup);
  });
})();
