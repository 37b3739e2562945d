"""The catalogue of the official datasets qpvgeo reads: one :class:`Dataset` record each
(publisher, licence, vintage, official page, download address, file names, known SHA-256).

Read through :mod:`qpvgeo.data.sources`, which finds, downloads and checks the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OSM_ATTRIBUTION = "© les contributeurs d'OpenStreetMap (ODbL)"
#: where dated OpenStreetMap extracts of the region are published (the data of the OSM files)
OSM_EXTRACTS_PAGE = "https://download.geofabrik.de/europe/france/ile-de-france.html"


@dataclass(frozen=True)
class Dataset:
    """One official dataset.

    Attributes
    ----------
    key : str
        Short name used in code and on the command line.
    title, publisher, licence, vintage : str
    page : str
        Official page of the dataset.
    files : tuple of str
        Paths (relative to the data directory) the dataset may have; the first
        present is used. The first one is where a download is saved.
    download : str or None
        Direct download address of the first file, if the publisher has one;
        otherwise (None) it is a manual download: the user saves the file by hand
        from ``page`` (``qpvgeo data`` says « téléchargement manuel : <page> »), as
        ``note`` explains.
    unzip_member : str or None
        Member to extract when ``download`` is a zip archive.
    sha256 : dict
        Known SHA-256 of files of the reference layout.
    attribution : str
        Credit line to show on maps.
    note : str
        Caveats worth knowing.
    """

    key: str
    title: str
    publisher: str
    licence: str
    vintage: str
    page: str
    files: tuple[str, ...]
    download: str | None = None
    unzip_member: str | None = None
    sha256: dict[str, str] = field(default_factory=dict)
    attribution: str = ""
    note: str = ""


_LO = "Licence Ouverte 2.0 (Etalab)"

CATALOGUE: dict[str, Dataset] = {
    d.key: d
    for d in [
        Dataset(
            key="qpv",
            title="Quartiers prioritaires de la politique de la ville (QPV) 2024, périmètres",
            publisher="ANCT",
            licence=_LO,
            vintage="QPV 2024 (décret 2023-1314)",
            page="https://www.data.gouv.fr/fr/datasets/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/",
            files=(
                "qpv/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson",
                "qpv/qpv2024_idf.geojson",
                "qpv/qpv2024_essonne_91.geojson",
            ),
            download="https://static.data.gouv.fr/resources/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/20260115-204323/qpv-2024-geojson.zip",
            unzip_member="QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson",
            sha256={
                "qpv/qpv2024_idf.geojson": "df3beff071e1b848fe76f6bd0a566076babbcc32045cbed598e3c61f5ffdca02",
                "qpv/qpv2024_essonne_91.geojson": "fefe020df58311025dd83c6ecbdea5229a624a8bb8d1c6c13d8e3444b16e3738",
            },
            attribution="Source : ANCT",
            note="Regional or départemental extracts of the national file are read the same way.",
        ),
        Dataset(
            key="communes",
            title="Contours administratifs des communes (2024, simplifiés 100 m)",
            publisher="Etalab, d'après IGN ADMIN EXPRESS",
            licence=_LO,
            vintage="2024",
            page="https://etalab-datasets.geo.data.gouv.fr/contours-administratifs/2024/geojson/",
            files=(
                "admin/communes-100m.geojson",
                "admin/communes_idf_2024_etalab100m.geojson",
                "admin/communes_essonne_91_2024_etalab100m.geojson",
            ),
            download="https://etalab-datasets.geo.data.gouv.fr/contours-administratifs/2024/geojson/communes-100m.geojson.gz",
            sha256={
                "admin/communes_idf_2024_etalab100m.geojson": "4c95ccc5a223ed60330bd6dfd56e5429b8f56e99b1420fe6b05d607cfb655b6f",
                "admin/communes_essonne_91_2024_etalab100m.geojson": "0bcd556051634d9789376ee7f697dc8104574dfe286b9d8cdfaa13e0ff40b0d8",
            },
            attribution="Etalab / IGN",
        ),
        Dataset(
            key="iris",
            title="Contours IRIS",
            publisher="IGN / INSEE",
            licence=_LO,
            vintage="IRIS geography after the 2019 mergers",
            page="https://geoservices.ign.fr/contoursiris",
            files=("admin/iris_idf.geojson", "admin/iris_essonne_91.geojson"),
            sha256={
                "admin/iris_idf.geojson": "4077f3668a8b3329206b624e5917925f6b2c89ded4ad2a10ad7dc9309abbdf29",
                "admin/iris_essonne_91.geojson": "85265a1740b5342d1de93d8158c5ed67f6ea161eeb92ef20305f76d60fd25e4e",
            },
            attribution="IGN / INSEE",
            note="Manual download: IGN publishes 7z archives of shapefiles or GeoPackages (e.g. "
            "https://data.geopf.fr/telechargement/download/CONTOURS-IRIS/"
            "CONTOURS-IRIS_3-0__SHP__FRA_2024-01-01/CONTOURS-IRIS_3-0__SHP__FRA_2024-01-01.7z), "
            "which qpvgeo does not unpack: extract the layer and save it as GeoJSON under the first "
            "file name (columns CODE_IRIS, NOM_IRIS, INSEE_COM, TYP_IRIS are understood).",
        ),
        Dataset(
            key="iris_population",
            title="Recensement de la population 2021, base infracommunale (IRIS), population",
            publisher="INSEE",
            licence=_LO,
            vintage="RP 2021",
            page="https://www.insee.fr/fr/statistiques/8268806",
            files=("insee/base-ic-evol-struct-pop-2021.csv", "insee/iris_91_population_logement_rp2021.csv"),
            download="https://www.insee.fr/fr/statistiques/fichier/8268806/base-ic-evol-struct-pop-2021_csv.zip",
            unzip_member="base-ic-evol-struct-pop-2021.CSV",
            sha256={
                "insee/iris_91_population_logement_rp2021.csv": "f9faca76f69ad5b106bfcc68d4f4b72ebe08dbf653af17651cd8583ed4aaa039",
            },
            attribution="INSEE, RP 2021",
            note="The official file (';'-separated, columns IRIS and P21_POP) is read as well.",
        ),
        Dataset(
            key="qpv_figures",
            title="Chiffres clés des QPV 2024 (population, ménages, pauvreté, emploi, CAF)",
            publisher="ANCT (SIG Ville), d'après INSEE (RP, Filosofi) et CNAF",
            licence=_LO,
            vintage="QPV 2024: population municipale 2020, taux de pauvreté Filosofi 2021",
            page="https://sig.ville.gouv.fr/",
            files=(
                "insee/qpv2024_chiffres_cles_sigville_france.csv",
                "insee/qpv2024_chiffres_cles.csv",
            ),
            sha256={
                "insee/qpv2024_chiffres_cles_sigville_france.csv": "b15d170da9df61e4bd3fed9c0df14e94b0f12436c2411285e837effc2386d731",
            },
            attribution="ANCT, SIG Ville",
            note=(
                "Manual download (no direct address): export the key figures of the QPV 2024 from SIG Ville "
                "(one row per QPV: code_qp, popMuniQPV, nombre_menages, partMen1p…partMen6pp, "
                "taux_d_emploi, taux_pauvrete_60%) and save it under the first file name. "
                "Figures under statistical secrecy are empty."
            ),
        ),
        Dataset(
            key="iris_income",
            title="Filosofi 2021, revenus déclarés par IRIS",
            publisher="INSEE",
            licence=_LO,
            vintage="Filosofi 2021",
            page="https://www.insee.fr/fr/statistiques/8229323",
            files=("insee/BASE_TD_FILO_IRIS_2021_DEC.csv", "insee/filosofi2021_iris_91_revenus_declares.csv"),
            download="https://www.insee.fr/fr/statistiques/fichier/8229323/BASE_TD_FILO_IRIS_2021_DEC_CSV.zip",
            unzip_member="BASE_TD_FILO_IRIS_2021_DEC.csv",
            sha256={
                "insee/filosofi2021_iris_91_revenus_declares.csv": "f530239dd40635103fdd5454b0c536521b77f192a9627e1f71dfe97a141eabb8",
            },
            attribution="INSEE, Filosofi 2021",
            note="Only IRIS of communes split into IRIS and outside statistical secrecy.",
        ),
        Dataset(
            key="bpe",
            title="Base permanente des équipements (BPE) 2024",
            publisher="INSEE",
            licence=_LO,
            vintage="BPE 2024 (codes 2024; 2021 codes also read)",
            page="https://www.insee.fr/fr/statistiques/8217537",
            files=(
                "insee/BPE24.csv",
                "insee/bpe2024_essonne_equipements_selection.csv",
            ),
            download="https://www.insee.fr/fr/statistiques/fichier/8217525/bpe24_ensemble_xy_csv.zip",
            unzip_member="bpe24_ensemble_xy.csv",
            sha256={
                "insee/bpe2024_essonne_equipements_selection.csv": "a6f21473680fe597804ad5a57f2fa2865070d64645bbcf0029dd3b0ce568bcf2",
            },
            attribution="INSEE, BPE 2024",
            note="The official file (all of France, equipments with coordinates, 'ensemble xy') "
            "is ';'-separated with TYPEQU, DEPCOM, LAMBERT_X, LAMBERT_Y; it is saved as BPE24.csv.",
        ),
        Dataset(
            key="bpe_ring",
            title="BPE 2024, equipments of neighbouring départements near the border",
            publisher="INSEE",
            licence=_LO,
            vintage="BPE 2024",
            page="https://www.insee.fr/fr/statistiques/8217537",
            files=("insee/bpe2024_idf_hors91_tampon3km_equipements_selection.csv",),
            sha256={
                "insee/bpe2024_idf_hors91_tampon3km_equipements_selection.csv": "0f53023d41bdfec88c30f7f651b8eb8f3afaec007a46af2b9a439b783d942059",
            },
            attribution="INSEE, BPE 2024",
            note="Manual: a selection made from the national BPE file for the mirror (equipments "
            "of the neighbouring départements within 3 km of Essonne). Not needed with the "
            "national BPE24.csv, which qpvgeo downloads and which holds every département.",
        ),
        Dataset(
            key="bpe_gammes",
            title="Gammes d'équipements de la BPE (2021): proximité, intermédiaire, supérieure",
            publisher="INSEE",
            licence=_LO,
            vintage="BPE 2021",
            page="https://www.insee.fr/fr/metadonnees/source/serie/s1161",
            files=("insee/bpe_gammes_2021_par_typequ.csv",),
            note="Manual download: the composition of the gammes (one row per TYPEQU and its "
            "gamme) is part of INSEE's BPE documentation on that page; save it as CSV under "
            "the file name.",
            sha256={
                "insee/bpe_gammes_2021_par_typequ.csv": "03ffc7ef043a46232c42bf753a76a07573feb682e7b7a9e5a64a2f309840723c",
            },
            attribution="INSEE",
        ),
        Dataset(
            key="stations",
            title="Emplacement des gares IDF",
            publisher="Île-de-France Mobilités",
            licence=_LO,
            vintage="2025",
            page="https://data.iledefrance-mobilites.fr/explore/dataset/emplacement-des-gares-idf/",
            files=(
                "osm/emplacement-des-gares-idf.geojson",
                "osm/idf_emplacement-des-gares-idf_idfm_2025-07.geojson",
            ),
            download="https://data.iledefrance-mobilites.fr/api/explore/v2.1/catalog/datasets/emplacement-des-gares-idf/exports/geojson",
            sha256={
                "osm/idf_emplacement-des-gares-idf_idfm_2025-07.geojson": "91c8ec5a0c2768c79c68d18ab24e192bcf091d27d27cba591141fc6a41bb12ef",
            },
            attribution="Île-de-France Mobilités",
        ),
        Dataset(
            key="network_saclay",
            title="OSM street network, Saclay – Les Ulis – western Massy (drive)",
            publisher="OpenStreetMap contributors, via osmnx",
            licence="ODbL 1.0",
            vintage="about 2025-12",
            page=OSM_EXTRACTS_PAGE,
            files=("osm/essonne_saclay-lesulis-massyW_drive_osmnx_2025-12.graphml",),
            sha256={
                "osm/essonne_saclay-lesulis-massyW_drive_osmnx_2025-12.graphml": "19bc63275bb811536c2ceb94701b3fff6d888b9b65ddf964c2e1571b1f481837",
            },
            attribution=OSM_ATTRIBUTION,
            note="Manual: a drive network saved with osmnx (no footways); there is nothing to "
            "download. On a connected machine qpvgeo downloads a walk network for each QPV from "
            "the Overpass API instead (osm/walk/<code_qp>.graphml).",
        ),
        Dataset(
            key="network_etampes",
            title="OSM street network, Étampes (drive, via SUMO)",
            publisher="OpenStreetMap contributors",
            licence="ODbL 1.0",
            vintage="about 2025-04",
            page=OSM_EXTRACTS_PAGE,
            files=("osm/essonne_etampes_drive_from-sumo_2025-04.graphml",),
            sha256={
                "osm/essonne_etampes_drive_from-sumo_2025-04.graphml": "d468589c67fd64722991ba9f525e62c1d5f5e26081894cbc1733c2bd08ca26ce",
            },
            attribution=OSM_ATTRIBUTION,
            note="Manual: a drive network converted from a SUMO scenario (no footways); there is "
            "nothing to download. On a connected machine qpvgeo downloads walk networks instead.",
        ),
        Dataset(
            key="osm_palaiseau",
            title="Raw OSM extract, Palaiseau – Orsay – Saclay plateau",
            publisher="OpenStreetMap contributors",
            licence="ODbL 1.0",
            vintage="2026-01-08",
            page=OSM_EXTRACTS_PAGE,
            files=("osm/essonne_palaiseau-orsay-saclay_2026-01-08.osm.bz2",),
            sha256={
                "osm/essonne_palaiseau-orsay-saclay_2026-01-08.osm.bz2": "3a23b4b2e2cf2367c6289536baaf0c3b05d5a65d7452bf884bd863e18e75d8c7",
            },
            attribution=OSM_ATTRIBUTION,
            note="Manual: a raw OSM extract (Overpass, osm_base 2026-01-08T06:25:44Z) of Palaiseau, "
            "Orsay and the Saclay plateau; holds footways (a real walk network) but no QPV. "
            "Dated extracts of every French region: https://download.geofabrik.de/europe/france.html",
        ),
        Dataset(
            key="rail_lines",
            title="Traces du réseau ferré IDF (RER, Transilien, TER, tram)",
            publisher="Île-de-France Mobilités",
            licence=_LO,
            vintage="2024",
            page="https://data.iledefrance-mobilites.fr/explore/dataset/traces-du-reseau-ferre-idf/",
            files=(
                "barriers/traces-du-reseau-ferre-idf.geojson",
                "barriers/idf-rail_traces-reseau-ferre_idfm_2024_essonne-2km.geojson",
            ),
            download="https://data.iledefrance-mobilites.fr/api/explore/v2.1/catalog/datasets/traces-du-reseau-ferre-idf/exports/geojson",
            sha256={
                "barriers/idf-rail_traces-reseau-ferre_idfm_2024_essonne-2km.geojson": "50abb8980f7bb02eaaf2be4c4f2da603cf88352e53d885118e8eee8e2c98cabe",
            },
            attribution="Île-de-France Mobilités",
            note="Passenger lines only: no freight-only lines, no high-speed lines.",
        ),
        Dataset(
            key="seine",
            title="The Seine (OSM navigable waterway), centre line",
            publisher="OpenStreetMap contributors",
            licence="ODbL 1.0",
            vintage="about 2026-03",
            page=OSM_EXTRACTS_PAGE,
            files=("barriers/idf-waterway_seine_osm-navigable-network_2026-03_essonne-2km.geojson",),
            sha256={
                "barriers/idf-waterway_seine_osm-navigable-network_2026-03_essonne-2km.geojson": "c796158f2e22a1e546fa606275b2f28902c5e7a6935d0e98b765cc7293659114",
            },
            attribution=OSM_ATTRIBUTION,
            note="Manual: only the Seine, generalised (vertices ~130 m apart), cut from the OSM "
            "navigable waterways. Optional: on a connected machine the rivers and canals (the "
            "Seine included) come with the OpenStreetMap barriers download; without it, offline "
            "or online, the Seine is reported not assessed from this file.",
        ),
    ]
}

#: datasets holding a street network, tried in this order for a QPV
NETWORK_DATASETS = ("network_saclay", "network_etampes", "osm_palaiseau")


#: files qpvgeo saves in the data directory after a download; optional: without them, what they
#: hold is downloaded on a connected machine, or reported as not assessed offline
SAVED_FILES: dict[str, tuple[str, str]] = {
    "osm_barriers": (
        "barriers/osm_barriers_{dep}.gpkg",
        "OpenStreetMap motorways, trunk roads, rivers and canals around the département (barriers)",
    ),
    "osm_walk_networks": (
        "osm/walk/{code_qp}.graphml",
        "OpenStreetMap walk network around each QPV (downloaded with osmnx)",
    ),
}
