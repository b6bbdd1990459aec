// The customers' address page: province -> city -> district selects filled from the reference data.
// Without this script the page works too: its "show" button asks the server to fill the next select.
(function () {
  "use strict";
  const form = document.querySelector("form.places");
  if (!form) return;
  const province = form.querySelector("select[data-division=region]");
  const city = form.querySelector("select[data-division=city]");
  const district = form.querySelector("select[data-division=district]");
  const cache = new Map();  // province code -> its cities, each with its districts

  function fill(select, names, placeholder) {
    const keep = select.value;
    select.replaceChildren(new Option(placeholder, ""));
    for (const name of names) select.add(new Option(name, name, false, name === keep));
    select.removeAttribute("aria-invalid");
  }

  async function citiesOf(code) {
    if (!cache.has(code)) {
      const response = await fetch(form.dataset.divisionsUrl.replace("CODE", code), {credentials: "same-origin"});
      if (!response.ok) throw new Error(`divisions ${code}: ${response.status}`);
      cache.set(code, (await response.json()).cities);
    }
    return cache.get(code);
  }

  function fillDistricts(cities) {
    const chosen = cities.find((entry) => entry.name === city.value);
    const names = chosen ? chosen.districts : [];
    const placeholder = chosen && !names.length ? form.dataset.textNoDistrict : form.dataset.textChooseDistrict;
    fill(district, names, placeholder);
  }

  async function provinceChanged() {
    const option = province.selectedOptions[0];
    const code = option ? option.dataset.code : "";
    if (!code) {
      fill(city, [], form.dataset.textChooseCity);
      fillDistricts([]);
      return;
    }
    form.setAttribute("aria-busy", "true");
    try {
      const cities = await citiesOf(code);
      // Arrow keys move through provinces faster than answers come: only the latest one fills the selects.
      if (province.value !== option.value) return;
      fill(city, cities.map((entry) => entry.name), form.dataset.textChooseCity);
      fillDistricts(cities);
    } catch (error) {
      // Give back the button that lets the server fill the selects.
      if (chooseButton && !chooseButton.isConnected) district.closest(".field").after(chooseButton);
      console.warn(error);
    } finally {
      form.removeAttribute("aria-busy");
    }
  }

  async function cityChanged() {
    const option = province.selectedOptions[0];
    if (option && option.dataset.code) fillDistricts(await citiesOf(option.dataset.code));
  }

  // Taken out, not hidden: implicit submission (Enter in a field) clicks the first submit button, which must save.
  const chooseButton = form.querySelector("[data-choose]");
  if (chooseButton) chooseButton.remove();
  province.addEventListener("change", provinceChanged);
  city.addEventListener("change", cityChanged);
})();
